// Local file paths out of text that the HTTP API shows (GET /models' providerNotes): where the server is installed
// is nobody's business over the network. A path inside node_modules keeps its package-relative part (what the
// README names, e.g. onnxruntime-node/bin/napi-v6/linux/x64); any other absolute path keeps its last component.
// The startup log keeps the full paths for the operator.

/** An absolute POSIX path: a `/` at the start or after a space, bracket, quote or `=`, with at least two parts. */
const ABSOLUTE_PATH = /(^|[\s(["'=])(\/[^\s,;:()[\]"']+\/[^\s,;:()[\]"']+)/g;

export function redactLocalPaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, (_match, before: string, path: string) => {
    const trimmed = path.replace(/\/+$/, '');
    const inModules = trimmed.lastIndexOf('/node_modules/');
    const shown =
      inModules >= 0 ? trimmed.slice(inModules + '/node_modules/'.length) : trimmed.slice(trimmed.lastIndexOf('/') + 1);
    return `${before}${shown}`;
  });
}
