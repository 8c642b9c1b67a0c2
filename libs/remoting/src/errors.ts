import { ApogeeError } from '@apogee/message';

/** Stable codes of the remoting codec's errors (users search for them; keep them unchanged). */
export const RemotingErrorCode = {
  /** Frame length field exceeds the decoder's maximum frame size. */
  FRAME_TOO_LARGE: 'APG_REMOTING_FRAME_TOO_LARGE',
  /** Frame structure is invalid: length < 4, header length past the frame, unknown serialize type. */
  BAD_FRAME: 'APG_REMOTING_BAD_FRAME',
  /** The header (JSON or ROCKETMQ binary) cannot be decoded. */
  BAD_HEADER: 'APG_REMOTING_BAD_HEADER',
  /** A command cannot be encoded (value out of range for its wire field). */
  ENCODE: 'APG_REMOTING_ENCODE',
  /** A custom-header field (extFields entry) is missing or malformed. */
  BAD_FIELD: 'APG_REMOTING_BAD_FIELD',
} as const;
export type RemotingErrorCode = (typeof RemotingErrorCode)[keyof typeof RemotingErrorCode];

/** Base class of every error thrown by `@apogee/remoting`. */
export class RemotingError extends ApogeeError {
  declare readonly code: RemotingErrorCode;

  constructor(code: RemotingErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

type FrameErrorCode = typeof RemotingErrorCode.FRAME_TOO_LARGE | typeof RemotingErrorCode.BAD_FRAME | typeof RemotingErrorCode.BAD_HEADER;

/**
 * Inbound bytes are not a valid remoting frame. The connection that produced them must be closed
 * (RocketMQ's NettyDecoder closes the channel on any decode exception).
 */
export class FrameError extends RemotingError {
  constructor(code: FrameErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A JSON or ROCKETMQ header cannot be decoded. Is a FrameError, so a frame decoder can let it through. */
export class HeaderError extends FrameError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(RemotingErrorCode.BAD_HEADER, message, options);
  }
}

/** A command cannot be put on the wire (e.g. a code that does not fit the binary header's short). */
export class EncodeError extends RemotingError {
  constructor(message: string) {
    super(RemotingErrorCode.ENCODE, message);
  }
}

/**
 * A request's custom header (extFields) lacks a required field or holds an unparsable value.
 * The broker answers such a request with an error response instead of closing the connection.
 */
export class HeaderFieldError extends RemotingError {
  constructor(
    readonly field: string,
    readonly problem: 'missing' | 'invalid',
    message: string,
  ) {
    super(RemotingErrorCode.BAD_FIELD, message);
  }
}
