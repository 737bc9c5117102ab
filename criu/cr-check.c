// SPDX-License-Identifier: GPL-2.0
/* criu check: one line per feature the tool relies on. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "crtools.h"
#include "kerndat.h"

static int check_one(const char *name)
{
	const struct kerndat_feature *f = kerndat_find(name);
	int ret;

	if (!f) {
		pr_err("Unknown feature %s (criu check --feature list)\n", name);
		return -EINVAL;
	}
	ret = kerndat_has(name);
	if (ret)
		pr_msg("%s is not supported: %s\n", name, strerror(-ret));
	else
		pr_msg("%s is supported\n", name);
	return ret;
}

int cr_check(const char *feature)
{
	const struct kerndat_feature *f;
	int nr, missing_required = 0, missing = 0;

	f = kerndat_features(&nr);
	if (feature && !strcmp(feature, "list")) {
		for (int i = 0; i < nr; i++)
			pr_msg("%s\n", f[i].name);
		return 0;
	}
	if (feature)
		return check_one(feature);

	for (int i = 0; i < nr; i++) {
		int ret = kerndat_has(f[i].name);

		pr_msg("%-18s %-55s %s\n", f[i].name, f[i].what, ret ? "no" : "yes");
		if (ret) {
			pr_info("  %s: %s\n", f[i].name, strerror(-ret));
			missing++;
			if (f[i].required)
				missing_required++;
		}
	}
	if (missing_required) {
		pr_msg("Some features that criu needs are missing.\n");
		return -EOPNOTSUPP;
	}
	if (missing)
		pr_msg("Looks good, but some optional features are missing.\n");
	else
		pr_msg("Looks good.\n");
	return 0;
}
