import fs from 'node:fs';
import path from 'node:path';
import { CLI_TYPE_NAMES, WORK_ITEM_SEARCH_ATTRIBUTES } from '../../src/domain';

test('temporal-config/search-attributes.json matches the list in src/domain', () => {
  const file = JSON.parse(
    fs.readFileSync(path.resolve(__dirname, '../../temporal-config/search-attributes.json'), 'utf8'),
  );
  const fromCode = Object.fromEntries(WORK_ITEM_SEARCH_ATTRIBUTES.map((k) => [k.name, CLI_TYPE_NAMES[k.type]]));
  expect(file).toEqual(fromCode);
});
