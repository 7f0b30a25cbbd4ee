// Which Node.js serverfull runs on, checked before anything else loads: on an older one the failure
// would otherwise be an obscure one deep inside (node:sqlite, the SDK).

/** Exits with a message saying what to install when this Node.js is not 24, or 22.16 and newer. */
export function exitUnlessSupportedNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major >= 24 || (major === 22 && minor >= 16)) return;
  process.stderr.write(`serverfull needs Node.js 24 (or 22.16 and newer); this is Node.js ${process.versions.node}.\n`
    + 'Install Node.js 24, or, from a clone of serverfull: export PATH="$(bash scripts/install-node.sh 24):$PATH"\n');
  process.exit(1);
}
