// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration files, read as CRIU reads them (Documentation/criu.txt,
 * "CONFIGURATION FILES"): /etc/criu/default.conf, then ~/.criu/default.conf
 * (both skipped with --no-default-config or --config), then the file named
 * by $CRIU_CONFIG_FILE, then --config FILE, then the command line; a later
 * source overrides an earlier one. A file that does not exist is skipped.
 *
 * One option per line, without the leading "--", and its argument after
 * blanks, in double quotes when it holds blanks (\" is a quote inside them);
 * '#' starts a comment. Each line becomes one "--NAME" or "--NAME=VALUE"
 * word, applied by opts_parse() like the command line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "cr-config.h"
#include "cr_options.h"

#define GLOBAL_CONFIG	"/etc/criu/default.conf"
#define USER_CONFIG	".criu/default.conf"	/* under $HOME */

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Only blanks and a comment may follow a value. */
static bool only_trailer(const char *s)
{
	s = skip_blanks(s);
	return !*s || *s == '#' || *s == '\n';
}

/* A quoted value: up to the first '"' not preceded by '\'; \" becomes ". *ret_end: past the closing quote. */
static int quoted_value(const char *s, char *out, const char **ret_end)
{
	size_t n = 0;

	for (s++; *s && *s != '\n'; s++) {
		if (*s == '\\' && s[1] == '"') {
			out[n++] = '"';
			s++;
			continue;
		}
		if (*s == '"') {
			out[n] = '\0';
			*ret_end = s + 1;
			return 0;
		}
		out[n++] = *s;
	}
	return -EINVAL;
}

/*
 * One line of a configuration file: *ret_word is NULL (blank or comment
 * line), "--NAME" or "--NAME=VALUE" (malloc'ed). -EINVAL on a bad line.
 */
int config_parse_line(const char *line, char **ret_word)
{
	const char *s = skip_blanks(line), *name, *end;
	size_t name_len, len = strlen(line);
	_cleanup_free_ char *value = NULL;

	*ret_word = NULL;
	if (!*s || *s == '\n' || *s == '#')
		return 0;
	name = s;
	name_len = strcspn(s, " \t\n#");
	s = skip_blanks(s + name_len);
	if (*s && *s != '\n' && *s != '#') {
		value = xmalloc(len + 1);
		if (!value)
			return -ENOMEM;
		if (*s == '"') {
			if (quoted_value(s, value, &end))
				return -EINVAL;
		} else {
			size_t vlen = strcspn(s, " \t\n#");

			memcpy(value, s, vlen);
			value[vlen] = '\0';
			end = s + vlen;
		}
		if (!only_trailer(end))
			return -EINVAL;
	}
	if (asprintf(ret_word, "--%.*s%s%s", (int)name_len, name, value ? "=" : "", value ?: "") < 0) {
		*ret_word = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void free_words(char **words, int nr)
{
	for (int i = 1; i < nr; i++)
		free(words[i]);
	free(words);
}

/* The file as an argv ("criu" first). -ENOENT when it can't be opened, -EINVAL (reported) on a bad line. */
static int read_config(const char *path, char ***ret_argv, int *ret_argc)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t size = 0;
	char **argv;
	int argc = 1, lineno = 0;

	if (!f)
		return -ENOENT;
	argv = xzalloc(2 * sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	argv[0] = "criu";
	while (getline(&line, &size, f) >= 0) {
		char *word, **n;
		int ret;

		lineno++;
		ret = config_parse_line(line, &word);
		if (ret) {
			if (ret == -EINVAL)
				fprintf(stderr, "criu: %s:%d: bad line (criu(8), CONFIGURATION FILES)\n", path, lineno);
			free_words(argv, argc);
			return ret;
		}
		if (!word)
			continue;
		n = xrealloc(argv, (argc + 2) * sizeof(*argv));
		if (!n) {
			free(word);
			free_words(argv, argc);
			return -ENOMEM;
		}
		argv = n;
		argv[argc++] = word;
		argv[argc] = NULL;
	}
	*ret_argv = argv;
	*ret_argc = argc;
	return 0;
}

int config_apply_file(const char *path)
{
	char **argv;
	int argc, ret;

	ret = read_config(path, &argv, &argc);
	if (ret == -ENOENT)
		return 0;	/* as in CRIU: a missing file is no error */
	if (ret)
		return ret;
	/* the words stay: options keep pointers into them */
	return opts_parse(argc, argv, path, NULL, NULL);
}

int config_prescan(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
		if (!strcmp(argv[i], "--no-default-config")) {
			opts.no_default_config = true;
		} else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			opts.config_file = argv[++i];
			opts.no_default_config = true;
		} else if (!strncmp(argv[i], "--config=", 9)) {
			opts.config_file = argv[i] + 9;
			opts.no_default_config = true;
		}
	}
	return 0;
}

int config_apply_defaults(void)
{
	const char *home = getenv("HOME"), *env = getenv("CRIU_CONFIG_FILE");
	int ret = 0;

	if (!opts.no_default_config) {
		ret = config_apply_file(GLOBAL_CONFIG);
		if (!ret && home && *home) {
			_cleanup_free_ char *path = NULL;

			if (asprintf(&path, "%s/%s", home, USER_CONFIG) < 0)
				return -ENOMEM;
			ret = config_apply_file(path);
		}
	}
	if (!ret && env && *env)
		ret = config_apply_file(env);
	if (!ret && opts.config_file)
		ret = config_apply_file(opts.config_file);
	return ret;
}
