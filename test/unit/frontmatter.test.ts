// The frontmatter reader (the yaml package, no second parser): well-formed verdicts are read,
// everything else is a finding that fails the gate closed.
import { readVerdict } from '../../src/activities/gates/frontmatter';
import type { VerdictSpec } from '../../src/domain';

const spec: VerdictSpec = { field: 'verdict', pass: 'PASS', fail: 'FAIL' };

test('a verdict is read with its body, also with CRLF line ends', () => {
  expect(readVerdict('r.md', '---\nverdict: PASS\nnote: x\n---\n\n# Report\n', spec)).toEqual({
    ok: true,
    value: 'PASS',
    body: '# Report',
    data: { verdict: 'PASS', note: 'x' },
  });
  expect(readVerdict('r.md', '---\r\nverdict: FAIL\r\n---\r\nbody', spec)).toMatchObject({
    ok: true,
    value: 'FAIL',
    body: 'body',
  });
});

test.each([
  ['no frontmatter', 'verdict: PASS\n', 'r.md: no YAML frontmatter (it must start with ---); verdict cannot be read'],
  ['unclosed', '---\nverdict: PASS\n# body\n', 'r.md: frontmatter is not closed by a --- line; verdict cannot be read'],
  ['empty', '---\n---\nbody', 'r.md: frontmatter has no verdict'],
  ['a list, not a map', '---\n- verdict: PASS\n---\n', 'r.md: frontmatter has no verdict'],
  [
    'a duplicated key',
    '---\nverdict: PASS\nverdict: FAIL\n---\n',
    expect.stringMatching(/^r\.md: frontmatter is not valid YAML: /),
  ],
  ['a value of another type', '---\nverdict: true\n---\n', 'r.md: verdict is true; expected PASS or FAIL'],
])('%s is a finding', (_name, text, finding) => {
  expect(readVerdict('r.md', text, spec)).toEqual({ ok: false, finding });
});
