// Prints what a vitest JSON report says went wrong and what took longest, so a CI log's tail is enough
// to know which files failed and why (the default reporter's failures scroll out of a truncated log).
import fs from 'node:fs';
import path from 'node:path';

const report = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const root = process.cwd() + path.sep;
const files = report.testResults.map((file) => ({
  name: file.name.replace(root, ''),
  // The report's file times cover little of a file's run: its tests' own durations say more.
  seconds: file.assertionResults.reduce((sum, test) => sum + (test.duration ?? 0), 0) / 1000,
  failed: file.assertionResults.filter((test) => test.status === 'failed'),
  message: file.message,
}));
const broken = files.filter((file) => file.failed.length > 0 || (file.message && file.message.length > 0));
if (broken.length > 0) {
  console.log(`\nFailed files (${broken.length}):`);
  for (const file of broken) {
    console.log(`- ${file.name} (${file.seconds.toFixed(0)} s)`);
    if (file.message) console.log(`    file: ${file.message.split('\n').slice(0, 3).join(' | ').slice(0, 400)}`);
    for (const test of file.failed) {
      const first = (test.failureMessages[0] ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter(Boolean).slice(0, 3).join(' | ');
      console.log(`    ✗ ${test.fullName} (${((test.duration ?? 0) / 1000).toFixed(1)} s): ${first.slice(0, 400)}`);
    }
  }
}
console.log('\nSlowest files:');
for (const file of [...files].sort((a, b) => b.seconds - a.seconds).slice(0, 12)) console.log(`  ${file.seconds.toFixed(0).padStart(5)} s  ${file.name}`);
console.log(`Tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped`);
