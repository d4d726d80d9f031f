// Types of electron-vite's `?asset` imports, which resolve to a file path at run time.
/// <reference types="electron-vite/node" />
