export async function verifyCommand(_argv: string[]): Promise<number> {
  console.error('lockgrader verify: not implemented yet (see issue 6)');
  return 3;
}
