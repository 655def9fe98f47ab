import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is built once and served by the gateway at /app (headless) or loaded by the
// Electron window from the same URL.
export default defineConfig({
  root: 'renderer',
  base: '/app/',
  plugins: [react()],
  build: { outDir: '../dist/renderer', emptyOutDir: true },
});
