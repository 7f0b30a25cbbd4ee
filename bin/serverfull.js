#!/usr/bin/env node
import { exitUnlessSupportedNode } from './supported-node.js';

exitUnlessSupportedNode();
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
