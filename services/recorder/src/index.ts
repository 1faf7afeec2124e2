export {
  startRecorder,
  type Recorder,
  type RecorderDeps,
  type RecorderOptions,
} from './recorder.js';
export { recorderOptionsFrom } from './options.js';
