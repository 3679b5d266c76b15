// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm_s2_walk_stats - count the steps of KVM/arm64 page-table walks
 *
 * Attaches a probe to the kvm_pgtable_walk_tp tracepoint (the debug layer
 * of the kvm-s2-walk series, CONFIG_KVM_ARM64_PGTABLE_WALK_STATS=y), adds
 * up what every walk reports in per-CPU counters, per operation and level,
 * and shows them in debugfs:
 *
 *   /sys/kernel/debug/kvm_s2_walk/table     counters as a table (read)
 *   /sys/kernel/debug/kvm_s2_walk/counters  one "key value" per line (read)
 *   /sys/kernel/debug/kvm_s2_walk/reset     write 1: zero every counter
 *   /sys/kernel/debug/kvm_s2_walk/enable    read/write 0 or 1: detach or
 *                                           attach the probe
 *
 * Keys of the counters file are "walk.<op>.walks" and
 * "walk.<op>.<metric>.l<level>", metric being tables (tables entered) or
 * visited (entries visited). A table entered whose entries are not visited
 * was stepped over as a whole.
 *
 * The operation of a walk started on an unlinked table is known from the
 * walk itself; that of a walk from the root is told by the name of the
 * walker's callback, looked up once per callback, so that the same module
 * reads the kernel before the walker series and the kernel after it, whose
 * teardown has a callback of its own.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/kallsyms.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

/* module/Makefile refuses trees without it (the series' debug layer) */
#include <asm/kvm_pgtable_stats.h>

#define NR_LEVELS	KVM_PGTABLE_WALK_NR_LEVELS
#define TP_NAME		"kvm_pgtable_walk_tp"

enum walk_op {
	OP_OTHER,
	OP_MAP,
	OP_UNMAP,
	OP_SPLIT,
	OP_ATTR,
	OP_AGE,
	OP_FLUSH,
	OP_DESTROY,
	OP_GET_LEAF,
	OP_HYP,
	OP_CREATE_UNLINKED,
	OP_FREE_UNLINKED,
	NR_OPS,
};

static const char * const op_names[NR_OPS] = {
	[OP_OTHER]		= "other",
	[OP_MAP]		= "map",
	[OP_UNMAP]		= "unmap",
	[OP_SPLIT]		= "split",
	[OP_ATTR]		= "attr",
	[OP_AGE]		= "age",
	[OP_FLUSH]		= "flush",
	[OP_DESTROY]		= "destroy",
	[OP_GET_LEAF]		= "get_leaf",
	[OP_HYP]		= "hyp",
	[OP_CREATE_UNLINKED]	= "create_unlinked",
	[OP_FREE_UNLINKED]	= "free_unlinked",
};

/*
 * The walkers of arch/arm64/kvm/hyp/pgtable.c, by callback name. The
 * attribute walker serves write-protection, mkyoung and the relaxing of
 * permissions alike; stage2_destroy_walker() is the teardown walker of the
 * series, stage2_free_walker() the one it replaces.
 */
static const struct {
	const char	*name;
	enum walk_op	op;
} walkers[] = {
	{ "stage2_map_walker",		OP_MAP },
	{ "stage2_unmap_walker",	OP_UNMAP },
	{ "stage2_split_walker",	OP_SPLIT },
	{ "stage2_attr_walker",		OP_ATTR },
	{ "stage2_age_walker",		OP_AGE },
	{ "stage2_flush_walker",	OP_FLUSH },
	{ "stage2_free_walker",		OP_DESTROY },
	{ "stage2_destroy_walker",	OP_DESTROY },
	{ "leaf_walker",		OP_GET_LEAF },
	{ "hyp_map_walker",		OP_HYP },
	{ "hyp_unmap_walker",		OP_HYP },
	{ "hyp_free_walker",		OP_HYP },
};

struct walk_counters {
	u64	walks[NR_OPS];
	u64	tables[NR_OPS][NR_LEVELS];
	u64	visited[NR_OPS][NR_LEVELS];
};

/*
 * Callbacks already looked up, filled in once each and never changed:
 * a reader that sees a callback (acquire) sees its operation too.
 */
#define NR_CACHED	32
static struct {
	unsigned long	cb;
	enum walk_op	op;
} cb_cache[NR_CACHED];
static DEFINE_RAW_SPINLOCK(cb_cache_lock);

static bool enable = true;
module_param(enable, bool, 0444);
MODULE_PARM_DESC(enable, "Attach the probe at load time (default: 1)");

static struct walk_counters __percpu *counters;
static struct tracepoint *walk_tp;
static struct dentry *debugfs_dir;
/* Serialises attaching and detaching the probe; protects @attached. */
static DEFINE_MUTEX(attach_lock);
static bool attached;

static enum walk_op op_by_name(unsigned long cb)
{
	char name[KSYM_SYMBOL_LEN];
	size_t len;
	int i;

	sprint_symbol_no_offset(name, cb);
	/* Compiler clones are called <name>.<suffix> */
	len = strcspn(name, ".");
	for (i = 0; i < ARRAY_SIZE(walkers); i++) {
		if (strlen(walkers[i].name) == len &&
		    !strncmp(name, walkers[i].name, len))
			return walkers[i].op;
	}
	return OP_OTHER;
}

static enum walk_op op_of_cb(unsigned long cb)
{
	enum walk_op op;
	unsigned long flags;
	int i;

	for (i = 0; i < NR_CACHED; i++) {
		unsigned long c = smp_load_acquire(&cb_cache[i].cb);

		if (c == cb)
			return cb_cache[i].op;
		if (!c)
			break;
	}

	/* Not seen yet (or the cache is full): look it up */
	op = op_by_name(cb);
	raw_spin_lock_irqsave(&cb_cache_lock, flags);
	for (i = 0; i < NR_CACHED; i++) {
		if (cb_cache[i].cb == cb)
			break;
		if (!cb_cache[i].cb) {
			cb_cache[i].op = op;
			smp_store_release(&cb_cache[i].cb, cb);
			break;
		}
	}
	raw_spin_unlock_irqrestore(&cb_cache_lock, flags);
	return op;
}

static enum walk_op walk_op(const struct kvm_pgtable_walk_stats *stats)
{
	switch (stats->start) {
	case KVM_PGTABLE_WALK_START_CREATE_UNLINKED:
		return OP_CREATE_UNLINKED;
	case KVM_PGTABLE_WALK_START_FREE_UNLINKED:
		return OP_FREE_UNLINKED;
	default:
		return op_of_cb((unsigned long)stats->cb);
	}
}

static void walk_probe(void *data, const struct kvm_pgtable_walk_stats *stats)
{
	enum walk_op op = walk_op(stats);
	int l;

	/* this_cpu ops: a walk may run in any context, preemptible or not */
	this_cpu_inc(counters->walks[op]);
	for (l = 0; l < NR_LEVELS; l++) {
		this_cpu_add(counters->tables[op][l], stats->tables[l]);
		this_cpu_add(counters->visited[op][l], stats->visited[l]);
	}
}

/*
 * The sum of the per-CPU copies, to kfree(); counters that change meanwhile
 * may be torn across CPUs.
 */
static struct walk_counters *sum_counters(void)
{
	struct walk_counters *sum;
	const u64 *src;
	u64 *dst;
	int cpu, i;

	sum = kzalloc_obj(*sum);
	if (!sum)
		return NULL;

	dst = (u64 *)sum;
	for_each_possible_cpu(cpu) {
		src = (const u64 *)per_cpu_ptr(counters, cpu);
		for (i = 0; i < sizeof(*sum) / sizeof(u64); i++)
			dst[i] += READ_ONCE(src[i]);
	}
	return sum;
}

static int set_attached(bool on)
{
	int ret = 0;

	mutex_lock(&attach_lock);
	if (on && !attached) {
		ret = tracepoint_probe_register(walk_tp, walk_probe, NULL);
		attached = !ret;
	} else if (!on && attached) {
		ret = tracepoint_probe_unregister(walk_tp, walk_probe, NULL);
		/* No probe may still run once this returns */
		tracepoint_synchronize_unregister();
		attached = false;
	}
	mutex_unlock(&attach_lock);
	return ret;
}

static int level_of(int idx)
{
	return idx + KVM_PGTABLE_FIRST_LEVEL;
}

static int table_show(struct seq_file *m, void *unused)
{
	struct walk_counters *c;
	int op, l;

	c = sum_counters();
	if (!c)
		return -ENOMEM;

	seq_printf(m, "%-16s %10s %5s %12s %12s\n", "operation", "walks", "level",
		   "tables", "visited");

	for (op = 0; op < NR_OPS; op++) {
		bool first = true;

		if (!c->walks[op])
			continue;
		for (l = 0; l < NR_LEVELS; l++) {
			/* Level -1 only exists with 52-bit IPAs at 4K (LPA2) */
			if (level_of(l) < 0 && !c->visited[op][l] && !c->tables[op][l])
				continue;
			if (first)
				seq_printf(m, "%-16s %10llu", op_names[op], c->walks[op]);
			else
				seq_printf(m, "%-16s %10s", "", "");
			first = false;
			seq_printf(m, " %5d %12llu %12llu\n", level_of(l),
				   c->tables[op][l], c->visited[op][l]);
		}
	}
	kfree(c);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(table);

static int counters_show(struct seq_file *m, void *unused)
{
	struct walk_counters *c;
	int op, l;

	c = sum_counters();
	if (!c)
		return -ENOMEM;

	for (op = 0; op < NR_OPS; op++) {
		const char *name = op_names[op];

		seq_printf(m, "walk.%s.walks %llu\n", name, c->walks[op]);
		for (l = 0; l < NR_LEVELS; l++) {
			seq_printf(m, "walk.%s.tables.l%d %llu\n", name,
				   level_of(l), c->tables[op][l]);
			seq_printf(m, "walk.%s.visited.l%d %llu\n", name,
				   level_of(l), c->visited[op][l]);
		}
	}
	kfree(c);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(counters);

static ssize_t reset_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	unsigned int val;
	int cpu, ret;

	ret = kstrtouint_from_user(ubuf, count, 0, &val);
	if (ret)
		return ret;
	if (val != 1)
		return -EINVAL;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(counters, cpu), 0, sizeof(struct walk_counters));
	return count;
}

static const struct file_operations reset_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= reset_write,
	.llseek	= noop_llseek,
};

static int enable_get(void *data, u64 *val)
{
	mutex_lock(&attach_lock);
	*val = attached;
	mutex_unlock(&attach_lock);
	return 0;
}

static int enable_set(void *data, u64 val)
{
	if (val > 1)
		return -EINVAL;
	return set_attached(val);
}
DEFINE_DEBUGFS_ATTRIBUTE(enable_fops, enable_get, enable_set, "%llu\n");

static void find_walk_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, TP_NAME))
		*(struct tracepoint **)priv = tp;
}

static int __init kvm_s2_walk_stats_init(void)
{
	int ret;

	BUILD_BUG_ON(ARRAY_SIZE(op_names) != NR_OPS);

	/*
	 * Look the tracepoint up by name rather than link against it, so
	 * that a kernel without it is told apart from a broken module.
	 */
	for_each_kernel_tracepoint(find_walk_tp, &walk_tp);
	if (!walk_tp) {
		pr_err("the running kernel has no %s tracepoint: build it with CONFIG_KVM_ARM64_PGTABLE_WALK_STATS=y (kvm-s2-walk debug layer)\n",
		       TP_NAME);
		return -ENODEV;
	}

	counters = alloc_percpu(struct walk_counters);
	if (!counters)
		return -ENOMEM;

	debugfs_dir = debugfs_create_dir("kvm_s2_walk", NULL);
	if (IS_ERR(debugfs_dir)) {
		ret = PTR_ERR(debugfs_dir);
		pr_err("cannot create debugfs directory kvm_s2_walk: %d\n", ret);
		goto err_free;
	}
	debugfs_create_file("table", 0444, debugfs_dir, NULL, &table_fops);
	debugfs_create_file("counters", 0444, debugfs_dir, NULL, &counters_fops);
	debugfs_create_file("reset", 0200, debugfs_dir, NULL, &reset_fops);
	debugfs_create_file_unsafe("enable", 0644, debugfs_dir, NULL, &enable_fops);

	if (enable) {
		ret = set_attached(true);
		if (ret) {
			pr_err("cannot attach to %s: %d\n", TP_NAME, ret);
			goto err_debugfs;
		}
	}
	return 0;

err_debugfs:
	debugfs_remove_recursive(debugfs_dir);
err_free:
	free_percpu(counters);
	return ret;
}

static void __exit kvm_s2_walk_stats_exit(void)
{
	/* Files first: nobody may toggle the probe once it is detached */
	debugfs_remove_recursive(debugfs_dir);
	set_attached(false);
	free_percpu(counters);
}

module_init(kvm_s2_walk_stats_init);
module_exit(kvm_s2_walk_stats_exit);

MODULE_DESCRIPTION("Step counters of KVM/arm64 page-table walks (kvm-s2-walk debug aid)");
MODULE_VERSION("2");
MODULE_LICENSE("GPL");
