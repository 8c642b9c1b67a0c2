import { ApogeeError } from '@apogee/message';

/**
 * A request body sent to the NameServer (REGISTER_BROKER 103, QUERY_DATA_VERSION 322, …) is not
 * what RocketMQ would send: bad JSON, wrong field types, a truncated or corrupt deflate stream.
 * Handlers answer it with SYSTEM_ERROR (1), as RocketMQ does when its decoder throws.
 */
export class MalformedNamesrvBodyError extends ApogeeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('APG_NS_MALFORMED_BODY', message, options);
  }
}

/**
 * REGISTER_BROKER carried a non-zero `bodyCrc32` that does not match the body. RocketMQ answers
 * SYSTEM_ERROR (1) with remark "crc32 not match".
 */
export class BodyCrcMismatchError extends ApogeeError {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super('APG_NS_BODY_CRC_MISMATCH', `crc32 not match (header ${expected}, body ${actual})`);
  }
}

/** The persisted KV config file exists but cannot be read as a KV config table. */
export class CorruptKvConfigFileError extends ApogeeError {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('APG_NS_KV_FILE_CORRUPT', `KV config file ${file} is corrupt: ${reason}`, options);
  }
}
