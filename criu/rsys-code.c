// SPDX-License-Identifier: GPL-2.0
/*
 * Where the dump's remote syscalls put their code (COMPEL_RSYS_RECOVER): the
 * tail of the last page of an executable ELF segment, past the segment's
 * last byte. The mapping covers it (whole pages) but the task never runs it,
 * so the code written there (a private copy of that page) can't be met by
 * the task, even if criu is killed before it puts the bytes back.
 */
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "common.h"
#include "dump-core.h"
#include "proc_parse.h"

#undef LOG_PREFIX
#define LOG_PREFIX "rsys-code: "

#define MAX_PHDRS 64

/* The end (a file offset) of the executable segment that ends inside [off, off + size), or 0. */
static uint64_t exec_segment_end(int fd, uint64_t off, uint64_t size)
{
	Elf64_Phdr ph[MAX_PHDRS];
	Elf64_Ehdr eh;
	uint64_t end = 0;
	ssize_t n;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_phnum ||
	    eh.e_phnum > MAX_PHDRS)
		return 0;
	n = pread(fd, ph, eh.e_phnum * sizeof(Elf64_Phdr), eh.e_phoff);
	if (n != (ssize_t)(eh.e_phnum * sizeof(Elf64_Phdr)))
		return 0;
	for (int i = 0; i < eh.e_phnum; i++) {
		uint64_t e = ph[i].p_offset + ph[i].p_filesz;

		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X))
			continue;
		if (ph[i].p_memsz != ph[i].p_filesz)
			return 0;	/* zero-filled code pages: not a layout we know */
		if (e > off && e <= off + size)
			end = e;
	}
	/* no other executable segment may start in the tail */
	for (int i = 0; end && i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X) && ph[i].p_offset >= end &&
		    ph[i].p_offset < off + size)
			return 0;
	return end;
}

int proc_exec_tail(int proc_dfd, size_t len, unsigned long *ret)
{
	struct proc_maps m = {};
	int err = parse_pid_maps(proc_dfd, &m);

	for (int i = 0; !err && i < m.nr; i++) {
		const struct proc_vma *v = &m.vmas[i];
		_cleanup_close_ int fd = -1;
		unsigned long code_end, at;
		uint64_t end;
		char name[64];

		if (!(v->prot & PROT_EXEC) || v->kind != PVMA_FILE || v->shared)
			continue;
		snprintf(name, sizeof(name), "map_files/%lx-%lx", v->start, v->end);
		fd = openat(proc_dfd, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		end = exec_segment_end(fd, v->pgoff, v->end - v->start);
		if (!end)
			continue;
		code_end = v->start + (end - v->pgoff);
		at = (v->end - len) & ~15UL;
		if (at < code_end || at < v->start)
			continue;
		pr_debug("remote-syscall code at %#lx, past the code of %s (ends at %#lx)\n", at, v->path, code_end);
		*ret = at;
		proc_maps_free(&m);
		return 0;
	}
	proc_maps_free(&m);
	return err ?: -ENOENT;
}
