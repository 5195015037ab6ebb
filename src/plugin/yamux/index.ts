export { YamuxSession, type YamuxSessionOptions } from './session.js';
export { YamuxStream } from './stream.js';
export { Flag, FrameType, GoAwayCode, HEADER_SIZE, INITIAL_STREAM_WINDOW, decodeHeader, encodeHeader } from './frame.js';
