// Where the playground page lives on disk, for the HTTP layer to serve with express.static at `/`. The page is
// plain HTML, CSS and ES modules with no build step; public/ holds what the browser loads (and the .d.ts files
// that let the Node tests import the same modules).
import { fileURLToPath } from 'node:url';

export const PLAYGROUND_DIR = fileURLToPath(new URL('./public/', import.meta.url));
