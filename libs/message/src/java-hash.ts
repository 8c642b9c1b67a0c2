/**
 * Java's String.hashCode: sum of UTF-16 code units times 31^(n-1-i), 32-bit wrapping.
 * RocketMQ stores it as the tags code of a consume-queue entry, so it must match bit for bit.
 */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}
