#!/usr/bin/env node
import { exitUnlessSupportedNode } from './supported-node.js';

exitUnlessSupportedNode();
const args = process.argv.slice(2);
const { restartWithServerHeap } = await import('../dist/src/cli/server-heap.js');
restartWithServerHeap(args);
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(args);
