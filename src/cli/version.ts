import { readFileSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import { Command } from 'commander';
import { contractCompatible, ownVersion, type VersionInfo } from '../version.js';
import { companionWithoutVersion, incompatibleCompanion } from '../grpc/errors.js';

// `rollouts-companion version`: what this build is (release, commit, gRPC contract), and with
// --companion whether a running companion speaks a contract this build can use: the check to
// make before upgrading the plugin or the companion (README, "Upgrading").

interface VersionOptions {
  json?: boolean;
  companion?: string;
  companionTls?: boolean;
  companionCa?: string;
}

const describe = (v: VersionInfo) => `${v.version} (commit ${v.commit}), contract rollouts.companion.v1 ${v.contractVersion}`;

export function versionCommand(): Command {
  return new Command('version')
    .description('print the release, the commit it was built from and the gRPC contract version')
    .option('--json', 'print one JSON object')
    .option('--companion <host:port>', "also ask a running companion for its version and say whether this build's plugin can use it")
    .option('--companion-tls', 'use TLS to reach the companion')
    .option('--companion-ca <file>', 'CA bundle to verify the companion (implies --companion-tls)')
    .action(async (options: VersionOptions) => {
      const own = ownVersion();
      if (!options.companion) {
        process.stdout.write(options.json ? `${JSON.stringify(own)}\n` : `rollouts-companion ${describe(own)}\n`);
        return;
      }
      const grpcJs = await import('@grpc/grpc-js');
      const { companionContractGate } = await import('../grpc/version.js');
      const credentials =
        options.companionCa || options.companionTls
          ? grpcJs.credentials.createSsl(options.companionCa ? readFileSync(options.companionCa) : undefined)
          : grpcJs.credentials.createInsecure();
      const gate = companionContractGate({ address: options.companion, credentials, deadlineMs: 10_000 });
      try {
        const companion = await gate.ask();
        const compatible = contractCompatible(own.contractVersion, companion.contractVersion);
        process.stdout.write(
          options.json
            ? `${JSON.stringify({ ...own, companion: { address: options.companion, ...companion, compatible } })}\n`
            : `rollouts-companion ${describe(own)}\ncompanion ${options.companion}: ${describe(companion)}: ` +
                `${compatible ? 'compatible' : incompatibleCompanion(options.companion, companion, own)}\n`,
        );
        if (!compatible) process.exitCode = 1;
      } catch (err) {
        if ((err as grpc.ServiceError).code === grpcJs.status.UNIMPLEMENTED) throw new Error(companionWithoutVersion(options.companion, own));
        throw new Error(`cannot ask companion ${options.companion} for its version: ${(err as Error).message}`, { cause: err });
      } finally {
        gate.close();
      }
    });
}
