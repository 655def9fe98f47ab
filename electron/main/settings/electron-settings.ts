// The settings file as the app opens it: electron-store, which is conf with Electron's paths and the
// app's version. The only file importing electron-store (it imports electron, so Node never loads it).
import ElectronStore from 'electron-store';
import type { OpenSettingsFile, StoredSettings } from './settings-store.js';

export const openElectronSettingsFile: OpenSettingsFile = ({ configName, ...options }) =>
  new ElectronStore<StoredSettings>({ ...options, name: configName });
