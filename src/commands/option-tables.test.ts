import { expect, test } from '@jest/globals';
import { COMMANDS, parseArgsOptions, usageText, type CommandTable } from './option-tables.ts';
import { parseCommandArgs } from './parse-command-args.ts';

test('the usage text names every option of every command, from the same table the parser uses', () => {
  const usage = usageText();
  for (const [name, table] of Object.entries(COMMANDS) as Array<[string, CommandTable]>) {
    expect(usage).toContain(`lockgrader ${name}`);
    for (const [option, row] of Object.entries(table.options)) expect(usage).toMatch(new RegExp(`--${option}${row.type === 'string' ? ` ${row.value?.replace(/[|.]/g, '\\$&')}` : ''}\\s+${row.help.slice(0, 12).replace(/[()[\]{}.*+?^$|\\]/g, '\\$&')}`));
  }
});

test('parsing follows the table: defaults, booleans, unknown options are usage errors', () => {
  const { values, positionals } = parseCommandArgs(['sub', '--no-sandbox', '--challenges', '2'], parseArgsOptions(COMMANDS.grade.options));
  expect(positionals).toEqual(['sub']);
  expect(values['no-sandbox']).toBe(true);
  expect(values.challenges).toBe('2');
  expect(values.backend).toBe('embedded');
  expect(values.reveal).toBe(false);
  expect(() => parseCommandArgs(['--verbose'], parseArgsOptions(COMMANDS.grade.options))).toThrow(/Unknown option '--verbose'/);
});
