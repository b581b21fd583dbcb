// Removes the vendor signature from a copy of the official Node binary before the SEA blob is
// injected: injection invalidates it, and a broken signature is worse than none (macOS refuses
// to run it; Windows tools flag it as tampered). macOS binaries are re-signed ad hoc afterwards.
import fs from 'node:fs';

const MH_MAGIC_64 = 0xfeedfacf;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const CPU_TYPE_ARM64 = 0x0100000c;

/**
 * Drops LC_CODE_SIGNATURE from a thin 64-bit Mach-O and cuts the signature off the end of
 * __LINKEDIT (which must end the file, as in every linker output). Returns false if unsigned.
 */
export function unsignMachO(file) {
  const buf = fs.readFileSync(file);
  const magic = buf.readUInt32LE(0);
  if (magic !== MH_MAGIC_64) throw new Error(`${file}: not a thin 64-bit little-endian Mach-O (magic 0x${magic.toString(16)})`);
  const cputype = buf.readUInt32LE(4);
  const ncmds = buf.readUInt32LE(16);
  const sizeofcmds = buf.readUInt32LE(20);
  const headerSize = 32;
  let sig;
  let linkedit;
  for (let i = 0, off = headerSize; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(off);
    const size = buf.readUInt32LE(off + 4);
    if (cmd === LC_CODE_SIGNATURE) sig = { off, size, dataoff: buf.readUInt32LE(off + 8), datasize: buf.readUInt32LE(off + 12) };
    if (cmd === LC_SEGMENT_64 && buf.toString('latin1', off + 8, off + 24).replace(/\0+$/, '') === '__LINKEDIT') {
      linkedit = { off, fileoff: Number(buf.readBigUInt64LE(off + 40)), filesize: Number(buf.readBigUInt64LE(off + 48)) };
    }
    off += size;
  }
  if (!sig) return false;
  if (!linkedit) throw new Error(`${file}: signed Mach-O without __LINKEDIT`);
  const end = sig.dataoff + sig.datasize;
  if (linkedit.fileoff + linkedit.filesize !== end || end !== buf.length) {
    throw new Error(`${file}: the code signature does not end __LINKEDIT and the file; cannot remove it safely`);
  }
  const page = cputype === CPU_TYPE_ARM64 ? 0x4000 : 0x1000;
  const filesize = sig.dataoff - linkedit.fileoff;
  buf.writeBigUInt64LE(BigInt(filesize), linkedit.off + 48);
  buf.writeBigUInt64LE(BigInt(Math.ceil(filesize / page) * page), linkedit.off + 32);
  // Shift the load commands after LC_CODE_SIGNATURE down over it and clear the freed tail.
  const cmdsEnd = headerSize + sizeofcmds;
  buf.copy(buf, sig.off, sig.off + sig.size, cmdsEnd);
  buf.fill(0, cmdsEnd - sig.size, cmdsEnd);
  buf.writeUInt32LE(ncmds - 1, 16);
  buf.writeUInt32LE(sizeofcmds - sig.size, 20);
  fs.writeFileSync(file, buf.subarray(0, sig.dataoff));
  return true;
}

/** Whether a thin 64-bit Mach-O carries LC_CODE_SIGNATURE. */
export function machOSigned(file) {
  const buf = fs.readFileSync(file);
  if (buf.readUInt32LE(0) !== MH_MAGIC_64) return false;
  for (let i = 0, off = 32, n = buf.readUInt32LE(16); i < n; i++) {
    if (buf.readUInt32LE(off) === LC_CODE_SIGNATURE) return true;
    off += buf.readUInt32LE(off + 4);
  }
  return false;
}

/** Locates the PE optional header's security (Authenticode) directory entry. */
function peSecurityEntry(buf, file) {
  if (buf.toString('latin1', 0, 2) !== 'MZ') throw new Error(`${file}: not a PE file`);
  const pe = buf.readUInt32LE(0x3c);
  if (buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error(`${file}: no PE signature`);
  const opt = pe + 24;
  const magic = buf.readUInt16LE(opt);
  const dirs = magic === 0x20b ? opt + 112 : magic === 0x10b ? opt + 96 : -1;
  if (dirs < 0) throw new Error(`${file}: unknown PE optional header magic 0x${magic.toString(16)}`);
  return { entry: dirs + 4 * 8, checksum: opt + 64 };
}

/**
 * Removes the Authenticode certificate table from a PE file (it sits at the end of the file;
 * the directory entry gives its file offset). Returns false if there was none.
 */
export function unsignPE(file) {
  const buf = fs.readFileSync(file);
  const { entry, checksum } = peSecurityEntry(buf, file);
  const offset = buf.readUInt32LE(entry);
  const size = buf.readUInt32LE(entry + 4);
  if (!offset || !size) return false;
  if (offset + size !== buf.length) throw new Error(`${file}: the certificate table is not at the end of the file`);
  buf.writeUInt32LE(0, entry);
  buf.writeUInt32LE(0, entry + 4);
  buf.writeUInt32LE(0, checksum); // the checksum covered the certificate; 0 = not set (not checked for programs)
  fs.writeFileSync(file, buf.subarray(0, offset));
  return true;
}

/** Whether a PE file has an Authenticode certificate table. */
export function peSigned(file) {
  const buf = fs.readFileSync(file);
  const { entry } = peSecurityEntry(buf, file);
  return buf.readUInt32LE(entry) !== 0 && buf.readUInt32LE(entry + 4) !== 0;
}
