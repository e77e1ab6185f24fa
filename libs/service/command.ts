// An operator's command line (staff roster, API keys): its exit code, and any failure it did not
// expect said on one line under the command's name rather than as a stack trace.
export function runCommand(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
