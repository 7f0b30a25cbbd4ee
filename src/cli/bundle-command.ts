/**
 * @module cli/bundle-command
 * `serverfull bundle`: one declared function as a self-contained zip for AWS Lambda.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { bundleFunction } from '../lambda/lambda-bundle.js';
import { DECLARATION_FLAGS, declarationSources } from './declaration-flags.js';

/** Help text of `serverfull bundle`. */
export const BUNDLE_HELP = `Usage: serverfull bundle --function NAME --out FILE.zip [options]

Bundles one function of a serverfull.json manifest (or SAM template) with esbuild into a
self-contained deployment package:
  bootstrap, runtime.mjs  lambda mode: deploy with --runtime provided.al2023 (any handler name)
  index.mjs               the function alone: deploy with --runtime nodejs20.x --handler index.handler
The bootstrap runs bin/node from the package (--include-node), else /opt/bin/node (a layer),
else node from PATH (container images). A mocked function's bundle answers its mock.

Options:
  --function NAME         the declared function to bundle
  --out FILE              the zip to write
  --include-node          put this machine's node executable in the package (Linux x64 builds for AWS)
${DECLARATION_FLAGS.help}
  -h, --help              this text
`;

/** Runs `serverfull bundle`. */
export async function bundleCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...DECLARATION_FLAGS.options,
      function: { type: 'string' },
      out: { type: 'string' },
      'include-node': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(BUNDLE_HELP);
    return 0;
  }
  if (!values.function) throw new ConfigError('bundle needs --function NAME (see serverfull bundle --help)');
  if (!values.out) throw new ConfigError('bundle needs --out FILE.zip (see serverfull bundle --help)');
  const result = await bundleFunction({
    ...declarationSources(values),
    functionName: values.function,
    out: values.out,
    includeNode: values['include-node'] ?? false,
  });
  const kB = (result.bytes / 1024).toFixed(0);
  process.stdout.write(`${result.path}: ${kB} kB (${result.files.join(', ')})${result.mocked ? ', answers the mock' : ''}\n`);
  return 0;
}
