// Writing a --junit report file, shared by assert and smoke.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { usageError } from '../../errors.js';
import type { Io } from '../../io/io.js';

export function writeJunit(io: Io, file: string, xml: string): void {
  try {
    writeFileSync(resolve(io.cwd, file), xml);
  } catch (error) {
    throw usageError(`--junit ${file}: cannot write (${(error as Error).message})`, 'give a path in an existing, writable folder');
  }
}
