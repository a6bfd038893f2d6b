// Builds an offline OSV advisory database in osv-scanner's own layout
// (<dir>/osv-scanner/<ecosystem>/all.zip holding one OSV JSON file per advisory), so the
// dependency audit has a reachable source of advisories in tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

export interface Advisory {
  readonly id: string;
  readonly summary: string;
  readonly package: string;
  readonly introduced: string;
  readonly fixed: string;
}

export function buildOsvDatabase(advisories: readonly Advisory[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osv-db-'));
  const files = advisories.map((a) => ({
    name: `${a.id}.json`,
    data: Buffer.from(
      JSON.stringify({
        schema_version: '1.6.0',
        id: a.id,
        modified: '2026-01-01T00:00:00Z',
        summary: a.summary,
        affected: [
          {
            package: { ecosystem: 'npm', name: a.package },
            ranges: [{ type: 'SEMVER', events: [{ introduced: a.introduced }, { fixed: a.fixed }] }],
          },
        ],
      }),
    ),
  }));
  fs.mkdirSync(path.join(dir, 'osv-scanner', 'npm'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'osv-scanner', 'npm', 'all.zip'), storedZip(files));
  return dir;
}

/** A zip archive with stored (uncompressed) entries. */
function storedZip(files: readonly { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name);
    const crc = zlib.crc32(file.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(file.data.length, 18);
    local.writeUInt32LE(file.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(file.data.length, 20);
    central.writeUInt32LE(file.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, file.data);
    centrals.push(central, name);
    offset += local.length + name.length + file.data.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}
