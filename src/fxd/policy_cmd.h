/*
 * policy_cmd.h: "fxd policy apply|check FILE --data DIR" (SPEC §13): the
 * operator's way to change the policy without a token, on the machine that
 * holds the data directory and the keys.
 */
#ifndef FX_POLICY_CMD_H
#define FX_POLICY_CMD_H

/* argv[0] is "apply" or "check", argv[1] the file; then the options. Returns the exit status. */
int fx_policy_cmd_run(int argc, char **argv);

#endif
