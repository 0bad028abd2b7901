// Public surface of the official-checkpoint importer: import-official itself, the torch.save reader (zip +
// restricted unpickler) and the config inference, for callers that need the pieces.
export { type ConfigFile, type ConfigFileKind, interpretConfig, readConfigFile, TRM_ARCH_NAME } from './config-file.js';
export {
  type ImportOfficialOptions,
  type ImportOfficialSummary,
  type ImportProgress,
  importOfficial,
} from './import-official.js';
export {
  checkTensorSet,
  type FieldSource,
  IMPORT_DEFAULTS,
  type ResolvedConfig,
  type ResolveInputs,
  resolveConfig,
  type ShapeFacts,
  shapeFacts,
} from './infer-config.js';
export { detectKeyPrefix, KEY_PREFIXES, type KeyPrefix } from './key-prefix.js';
export { openTensorSource, type SourceFormat, type SourceTensor, type TensorSource } from './tensor-source.js';
export {
  readTorchCheckpoint,
  type TorchArray,
  TorchCheckpoint,
  TorchCheckpointError,
  type TorchTensor,
  type TorchTensorInfo,
} from './torch-checkpoint.js';
export { PickleError, type TorchDType, unpickle } from './unpickler.js';
export { ZipArchive, type ZipEntry, ZipFormatError } from './zip-reader.js';
