/*
 * ledger.h: the public header of the ledger module (SPEC §9), the transparency
 * log of records of fact. Other modules and the CLI include this one header.
 *
 * - merkle.h: the RFC 9162 tree over a caller's hash store: appender, roots,
 *   inclusion and consistency proofs and their verifiers.
 * - checkpoint.h: C2SP tlog-checkpoint bodies in C2SP signed notes (Ed25519):
 *   signing, verifier keys, and the strict parsers a verifier runs.
 * - signer.h: the log's Ed25519 key; only signer.c touches the secret half.
 * - receipt.h: receipts as a client reads them: the strict parsers and the
 *   offline check `fx verify` runs.
 *
 * Nothing here knows HTTP or a store backend: the store reaches the tree
 * through struct fx_merkle_store. docs/internals/ledger.md shows how.
 */
#ifndef FX_LEDGER_H
#define FX_LEDGER_H

#include "ledger/checkpoint.h"
#include "ledger/merkle.h"
#include "ledger/receipt.h"
#include "ledger/signer.h"

#endif
