/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRIU_CRTOOLS_H
#define CRIU_CRTOOLS_H

#include <sys/types.h>

/* criu check [--feature NAME] (--extra, --experimental in opts): 0 when everything (or NAME) is supported. */
int cr_check(const char *feature);
/*
 * criu dump: 0 on success, -errno on failure (the tree is then left running
 * untouched), or CR_DUMP_POST_SCRIPT_FAILED: the images are complete but the
 * post-dump action script failed, so the tree was resumed (CRIU's exit 255).
 */
int cr_dump_tasks(int img_dfd, pid_t root);
int cr_pre_dump_tasks(int img_dfd, pid_t root);
int link_parent_dir(int img_dfd, const char *prev);
/* manifest.img and an inventory.img holding only the image version and its CRC (a pre-dump dir, a page server's dir) */
int write_pre_dump_inventory(int img_dfd);
#define CR_DUMP_POST_SCRIPT_FAILED	255
/* criu restore: <0 on failure; otherwise the exit code for criu (0, or the root's status in the foreground). */
int cr_restore(int img_dfd);
/* criu swrk FD / criu service [...]: argv[0] is the command (cr-service.c); the exit code. */
int cr_service_main(int argc, char **argv);

#endif
