#!/usr/bin/env node
import { restartWithServerHeap } from './server-heap.js';
import { exitUnlessSupportedNode } from './supported-node.js';

exitUnlessSupportedNode();
restartWithServerHeap(process.argv.slice(2));
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
