// How the app's version reaches the preload. The preload is bundled for a sandboxed renderer, whose
// `require` knows only electron and a few builtins: it may import nothing that pulls in the gateway
// (src/index.ts does), so main hands the version over as a command-line switch of the renderer
// (webPreferences.additionalArguments, which Electron appends to the renderer's process.argv).
// No imports here: main and the preload both include this file.

export const VERSION_SWITCH = '--cortex-version=';

/** The renderer's argument that carries `version`. */
export function versionArgument(version: string): string {
  return VERSION_SWITCH + version;
}

/** The version main passed, or '' when none was (an old main, a window opened some other way). */
export function versionFromArgv(argv: readonly string[]): string {
  const argument = argv.find((arg) => arg.startsWith(VERSION_SWITCH));
  return argument ? argument.slice(VERSION_SWITCH.length) : '';
}
