/* SPDX-License-Identifier: GPL-2.0 */
/* Configuration files (criu/config.c): where they are, their syntax, their order. */
#ifndef CRIU_CR_CONFIG_H
#define CRIU_CR_CONFIG_H

/*
 * Look at the command line before anything is applied: 1 when it asks for
 * --help (anywhere), else 0, after noting --no-default-config and
 * --config FILE in opts.
 */
int config_prescan(int argc, char **argv);
/* Apply the default files, $CRIU_CONFIG_FILE and --config FILE, in CRIU's order. 0 or -errno (reported). */
int config_apply_defaults(void);
/* Apply one configuration file (also for an RPC request's config file). A missing file is skipped. */
int config_apply_file(const char *path);
/* One line: *ret_word NULL (nothing), "--NAME" or "--NAME=VALUE" (malloc'ed); -EINVAL for a bad line. */
int config_parse_line(const char *line, char **ret_word);

#endif
