// SPDX-License-Identifier: GPL-2.0-only
/*
 * /init of the kvm-s2-walk test VM: mounts the pseudo file systems, runs
 * the commands of /commands one by one, then powers the machine off. No
 * shell, no busybox: built static for aarch64 by scripts/vm.sh.
 *
 * /commands holds one command per line, words separated by blanks:
 *   run PROG ARGS...      fork and exec PROG (an absolute path)
 *   insmod FILE ARGS...   load a module, ARGS being its parameters
 *   rmmod NAME            unload a module
 *   cat FILE              copy FILE to the console
 *   write FILE VALUE      write VALUE to FILE
 *   sysctl FILE VALUE     same as write, for /proc/sys settings
 *   mark TEXT             print "@@ mark TEXT", for the log parser
 * Prefix a command with "!" when it is expected to fail, with "?" when
 * either outcome is fine (the log tells which). Lines starting with "#"
 * are comments.
 *
 * Before the first command the console log level drops to 5: kernel
 * messages of KERN_WARNING and worse (WARN, BUG, KASAN, lockdep) still
 * reach the console, informational ones (a module's pr_info() at load)
 * do not. The console prints asynchronously, so such a message could
 * otherwise land in the middle of a command's output, which the log parser
 * (scripts/vm-lib.sh output_of) takes whole: a level that cannot be set
 * counts as an error.
 *
 * For each command the console shows "@@ cmd <line>" and then
 * "@@ ok <line>" or "@@ fail <line> (<reason>)"; an unexpected outcome
 * also counts as an error, and the last line before power-off is
 * "@@ done errors=<n>".
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS	64
#define MAX_LINE	4096

static char reason[256];

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return -1;
}

static void do_mount(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, NULL) && errno != EBUSY)
		printf("@@ warning: mount %s on %s: %s\n", type, dir, strerror(errno));
}

static int cmd_run(char **argv)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid) {
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return fail("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		return fail("killed by signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status))
		return fail("exit status %d", WEXITSTATUS(status));
	return 0;
}

static int cmd_insmod(char **argv)
{
	char params[MAX_LINE] = "";
	int fd, ret, i;

	for (i = 1; argv[i]; i++) {
		if (i > 1)
			strncat(params, " ", sizeof(params) - strlen(params) - 1);
		strncat(params, argv[i], sizeof(params) - strlen(params) - 1);
	}
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("open %s: %s", argv[0], strerror(errno));
	ret = syscall(SYS_finit_module, fd, params, 0);
	close(fd);
	return ret ? fail("finit_module: %s", strerror(errno)) : 0;
}

static int cmd_rmmod(char **argv)
{
	if (syscall(SYS_delete_module, argv[0], O_NONBLOCK))
		return fail("delete_module: %s", strerror(errno));
	return 0;
}

static int cmd_cat(char **argv)
{
	char buf[4096], last = '\n';
	ssize_t n;
	int fd;

	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("open %s: %s", argv[0], strerror(errno));
	fflush(stdout);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, n, stdout);
		last = buf[n - 1];
	}
	/* The "@@" line after the output must start a line of its own */
	if (last != '\n')
		putchar('\n');
	fflush(stdout);
	close(fd);
	return n < 0 ? fail("read %s: %s", argv[0], strerror(errno)) : 0;
}

static int cmd_write(char **argv)
{
	ssize_t n;
	int fd;

	if (!argv[1])
		return fail("no value to write");
	fd = open(argv[0], O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("open %s: %s", argv[0], strerror(errno));
	n = write(fd, argv[1], strlen(argv[1]));
	close(fd);
	if (n < 0)
		return fail("write %s: %s", argv[0], strerror(errno));
	return 0;
}

static int run_line(char *line)
{
	char *argv[MAX_ARGS + 1], *word, *save = NULL;
	int argc = 0;

	for (word = strtok_r(line, " \t", &save); word && argc < MAX_ARGS;
	     word = strtok_r(NULL, " \t", &save))
		argv[argc++] = word;
	argv[argc] = NULL;
	if (!argc)
		return fail("empty command");
	if (argc < 2 && strcmp(argv[0], "mark"))
		return fail("%s needs an argument", argv[0]);

	if (!strcmp(argv[0], "run"))
		return cmd_run(argv + 1);
	if (!strcmp(argv[0], "insmod"))
		return cmd_insmod(argv + 1);
	if (!strcmp(argv[0], "rmmod"))
		return cmd_rmmod(argv + 1);
	if (!strcmp(argv[0], "cat"))
		return cmd_cat(argv + 1);
	if (!strcmp(argv[0], "write") || !strcmp(argv[0], "sysctl"))
		return cmd_write(argv + 1);
	if (!strcmp(argv[0], "mark"))
		return 0;
	return fail("unknown command %s", argv[0]);
}

int main(void)
{
	char line[MAX_LINE], copy[MAX_LINE];
	int errors = 0;
	FILE *f;

	do_mount("proc", "/proc", "proc");
	do_mount("sysfs", "/sys", "sysfs");
	do_mount("devtmpfs", "/dev", "devtmpfs");
	do_mount("debugfs", "/sys/kernel/debug", "debugfs");
	do_mount("hugetlbfs", "/dev/hugepages", "hugetlbfs");
	do_mount("tmpfs", "/tmp", "tmpfs");
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* SYSLOG_ACTION_CONSOLE_LEVEL; the log parser relies on it */
	if (klogctl(8, NULL, 5)) {
		printf("@@ fail console log level: %s\n", strerror(errno));
		errors++;
	}

	f = fopen("/commands", "r");
	if (!f) {
		printf("@@ fail /commands: %s\n", strerror(errno));
		errors++;
	}
	while (f && fgets(line, sizeof(line), f)) {
		bool expect_fail = false, any = false;
		char *cmd = line;
		int ret;

		line[strcspn(line, "\n")] = '\0';
		if (!*line || *line == '#')
			continue;
		if (*cmd == '!' || *cmd == '?') {
			expect_fail = *cmd == '!';
			any = *cmd == '?';
			cmd++;
		}
		snprintf(copy, sizeof(copy), "%s", line);
		printf("@@ cmd %s\n", copy);
		reason[0] = '\0';
		ret = run_line(cmd);
		if (!ret)
			printf("@@ ok %s\n", copy);
		else
			printf("@@ fail %s (%s)\n", copy, reason);
		if (!any && !ret == expect_fail) {
			printf("@@ unexpected %s\n", expect_fail ? "success" : "failure");
			errors++;
		}
	}
	if (f)
		fclose(f);

	printf("@@ done errors=%d\n", errors);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
