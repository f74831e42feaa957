/** Where a command writes: the process's streams, or a test's. Its own module: every command takes one. */
export interface CliIO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}
