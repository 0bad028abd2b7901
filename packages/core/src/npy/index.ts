// .npy I/O: numpy's array file format (version 1.0 written, 1.0-3.0 read).
export * from './dtype.js';
export * from './header.js';
export * from './read.js';
export * from './stream-writer.js';
export * from './write.js';
