/**
 * @module cli/main
 * `serverfull <command>`: argv to command; configuration errors become one clear line.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/config-error.js';

const HELP = `Usage: serverfull <command> [options]

Commands:
  start     serve the functions of a serverfull.json behind the AWS Lambda Invoke API
  invoke    invoke a function on a running server
  logs      print (or --follow) a function's stored log from a running server
  deploy    zip a folder into a function on a running server (create or update, publish, alias)
  lambda    run one function as this process's Lambda runtime (AWS_LAMBDA_RUNTIME_API), e.g. in AWS
  bundle    package one function as a self-contained zip for AWS Lambda (esbuild; provided.al2023 or nodejs)
  params    put, get, list and delete parameters of a running server's Parameter Store
  keys      add access keys for a user to the keys file (SigV4 authentication), list users
  runtimes  list, or install, the Node.js builds process isolation runs each nodejsNN.x runtime on
  init      create a new project: a serverfull.json, a TypeScript function with its test, package.json

Run serverfull <command> --help for a command's options; serverfull --version prints the version.
`;

/** The version in serverfull's own package.json (this file is dist/src/cli/main.js). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // Each command is imported when run: lambda mode's cold start must not load the server (SQLite, the APIs).
    switch (command) {
      case 'start':
        return await (await import('./start-command.js')).startCommand(rest);
      case 'invoke':
        return await (await import('./invoke-command.js')).invokeCommand(rest);
      case 'logs':
        return await (await import('./logs-command.js')).logsCommand(rest);
      case 'deploy':
        return await (await import('./deploy-command.js')).deployCommand(rest);
      case 'bundle':
        return await (await import('./bundle-command.js')).bundleCommand(rest);
      case 'lambda':
        return await (await import('./lambda-command.js')).lambdaCommand(rest);
      case 'params':
        return await (await import('./params-command.js')).paramsCommand(rest);
      case 'keys':
        return await (await import('./keys-command.js')).keysCommand(rest);
      case 'init':
        return await (await import('./init-command.js')).initCommand(rest);
      case 'runtimes':
        return await (await import('./runtimes-command.js')).runtimesCommand(rest);
      case '-v':
      case '--version':
        process.stdout.write(`serverfull ${packageVersion()}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`serverfull: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`serverfull: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}
