// SPDX-License-Identifier: GPL-2.0
/*
 * UTS namespaces: the host name and the NIS domain name, in utsns-ID.img
 * (CRIU's UtsnsEntry). The dump runs in a helper that joined the namespace
 * (namespaces.c), the restore in the stub that made it (ns-restore.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define LOG_PREFIX "uts: "
#include "common.h"
#include "image.h"
#include "log.h"
#include "namespaces.h"
#include "protobuf.h"

#include "utsns.pb-c.h"

int uts_ns_dump(int img_dfd, uint32_t id)
{
	UtsnsEntry e = UTSNS_ENTRY__INIT;
	struct utsname u;
	struct cr_img *img;
	int ret;

	if (uname(&u))
		return pr_fail_errno("can't read the names of uts namespace %u", id);
	e.nodename = u.nodename;
	e.domainname = u.domainname;
	img = open_image_at(img_dfd, CR_FD_UTSNS, O_DUMP, id);
	if (!img)
		return pr_fail_errno("can't create utsns-%u.img", id);
	ret = pb_write_one(img, &e, PB_UTSNS);
	if (ret) {
		close_image(img);
		return ret;
	}
	return close_image_checked(img);
}

int uts_ns_read(int img_dfd, uint32_t id, void **ret_data, int *ret_join_fd)
{
	struct cr_img *img = open_image_at(img_dfd, CR_FD_UTSNS, O_RSTR, id);
	UtsnsEntry *e;
	int ret;

	if (!img)
		return pr_fail_errno("can't open utsns-%u.img", id);
	ret = pb_read_one(img, (void **)&e, PB_UTSNS);
	close_image(img);
	if (ret)
		return ret;
	/* the kernel's limit is __NEW_UTS_LEN (64) bytes for each */
	if (strlen(e->nodename) > 64 || strlen(e->domainname) > 64) {
		pb_free(e, PB_UTSNS);
		return pr_fail(-EINVAL, "utsns-%u.img: a name longer than 64 bytes\n", id);
	}
	*ret_data = e;
	return 0;
}

int uts_ns_restore(void *data)
{
	UtsnsEntry *e = data;

	if (sethostname(e->nodename, strlen(e->nodename)))
		return pr_fail_errno("can't set the hostname to '%s'", e->nodename);
	if (setdomainname(e->domainname, strlen(e->domainname)))
		return pr_fail_errno("can't set the domain name to '%s'", e->domainname);
	return 0;
}

void uts_ns_free(void *data)
{
	pb_free(data, PB_UTSNS);
}
