export interface Command {
  /** one line for `carbonado --help` */
  readonly summary: string;
  /** the usage text printed by `carbonado <command> --help` */
  readonly usage: string;
  /** runs the command; resolves to the process exit code */
  run(argv: string[]): Promise<number>;
}
