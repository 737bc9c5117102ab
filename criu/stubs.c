// SPDX-License-Identifier: GPL-2.0
/*
 * Weak placeholders for entry points that other parts of the tree define.
 * They keep the tool linking while those parts are being written, and they
 * fail loudly: nothing here pretends to work. Delete an entry once its real
 * definition has landed.
 */
#include "common.h"
#include "crtools.h"
#include "pstree.h"

#include "restore.h"

__attribute__((weak)) int cr_restore_tasks(const struct restore_opts *o)
{
	pr_err("restore is not implemented yet\n");
	return -ENOSYS;
}

__attribute__((weak)) int dump_task_core(int img_dfd, struct pstree_item *item)
{
	pr_err("dumping task state is not implemented yet\n");
	return -ENOSYS;
}

__attribute__((weak)) int restore_img_dfd(void)
{
	return -1;
}

__attribute__((weak)) int restore_service_fd_base(void)
{
	return 0;
}
