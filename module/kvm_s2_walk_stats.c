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
 * visited (entries visited), for every walk; "shadow.<op>...." the same for
 * the walks of shadow stage-2s (nested virtualization) alone. A table
 * entered whose entries are not visited was stepped over as a whole.
 *
 * On a kernel with the reverse map of the shadow stage-2s (the
 * kvm_nested_revmap_* trace events), "revmap.<event>" counts what it did:
 * entries recorded, spans made unknown, failed records, targeted unmaps
 * (and the pages they covered), full unmaps because of an unknown span
 * or a broken map, and the entries that guest TLB invalidations took out;
 * "revmap.available" says whether the kernel has it.
 *
 * The operation of a walk started on an unlinked table is known from the
 * walk itself; that of a walk from the root is told by the name of the
 * walker's callback, looked up once per callback, so that the same module
 * reads the kernel before the walker series and the kernel after it, whose
 * teardown has a callback of its own.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/kvm_host.h>
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
	OP_SKIP,
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
	[OP_SKIP]		= "skip",
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
	{ "stage2_skip_walker",		OP_SKIP },
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

/* Events of the reverse map of the shadow stage-2s */
enum revmap_event {
	REVMAP_RECORDS,
	REVMAP_UNKNOWN_SPANS,
	REVMAP_RECORD_FAILURES,
	REVMAP_TARGETED_UNMAPS,
	REVMAP_TARGETED_PAGES,
	REVMAP_FULL_UNMAPS_UNKNOWN,
	REVMAP_FULL_UNMAPS_BROKEN,
	REVMAP_TLBI_FORGOTTEN,
	NR_REVMAP_EVENTS,
};

static const char * const revmap_names[NR_REVMAP_EVENTS] = {
	[REVMAP_RECORDS]		= "records",
	[REVMAP_UNKNOWN_SPANS]		= "unknown_spans",
	[REVMAP_RECORD_FAILURES]	= "record_failures",
	[REVMAP_TARGETED_UNMAPS]	= "targeted_unmaps",
	[REVMAP_TARGETED_PAGES]		= "targeted_pages",
	[REVMAP_FULL_UNMAPS_UNKNOWN]	= "full_unmaps_unknown",
	[REVMAP_FULL_UNMAPS_BROKEN]	= "full_unmaps_broken",
	[REVMAP_TLBI_FORGOTTEN]		= "tlbi_forgotten",
};

/* All u64: sum_counters() adds them up as an array */
struct all_counters {
	struct walk_counters	all;
	struct walk_counters	shadow;
	u64			revmap[NR_REVMAP_EVENTS];
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

static struct all_counters __percpu *counters;
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

/* A walk of a shadow stage-2 MMU: not the canonical MMU of its VM */
static bool walk_on_shadow(const struct kvm_pgtable_walk_stats *stats)
{
	const struct kvm_s2_mmu *mmu;

	if (!stats->pgt)
		return false;
	mmu = stats->pgt->mmu;
	return mmu && mmu->arch && mmu != &mmu->arch->mmu;
}

static void walk_probe(void *data, const struct kvm_pgtable_walk_stats *stats)
{
	enum walk_op op = walk_op(stats);
	bool shadow = walk_on_shadow(stats);
	int l;

	/* this_cpu ops: a walk may run in any context, preemptible or not */
	this_cpu_inc(counters->all.walks[op]);
	if (shadow)
		this_cpu_inc(counters->shadow.walks[op]);
	for (l = 0; l < NR_LEVELS; l++) {
		this_cpu_add(counters->all.tables[op][l], stats->tables[l]);
		this_cpu_add(counters->all.visited[op][l], stats->visited[l]);
		if (!shadow)
			continue;
		this_cpu_add(counters->shadow.tables[op][l], stats->tables[l]);
		this_cpu_add(counters->shadow.visited[op][l], stats->visited[l]);
	}
}

/*
 * Probes of the kvm_nested_revmap_* trace events (arch/arm64/kvm/
 * trace_arm.h): their prototypes must match the events' TP_PROTO.
 */
static void revmap_record_probe(void *data, u64 vttbr, u64 ipa, u64 size,
				u64 nested_ipa, bool known, int ret)
{
	if (ret)
		this_cpu_inc(counters->revmap[REVMAP_RECORD_FAILURES]);
	else if (known)
		this_cpu_inc(counters->revmap[REVMAP_RECORDS]);
	else
		this_cpu_inc(counters->revmap[REVMAP_UNKNOWN_SPANS]);
}

static void revmap_unmap_probe(void *data, u64 vttbr, u64 ipa, u64 size,
			       u64 nested_ipa)
{
	this_cpu_inc(counters->revmap[REVMAP_TARGETED_UNMAPS]);
	this_cpu_add(counters->revmap[REVMAP_TARGETED_PAGES], size >> PAGE_SHIFT);
}

static void revmap_full_probe(void *data, u64 vttbr, u64 ipa, u64 size,
			      bool unknown)
{
	this_cpu_inc(counters->revmap[unknown ? REVMAP_FULL_UNMAPS_UNKNOWN :
					       REVMAP_FULL_UNMAPS_BROKEN]);
}

static void revmap_forget_probe(void *data, u64 vttbr, u64 nested_ipa,
				u64 size, u64 forgotten)
{
	this_cpu_add(counters->revmap[REVMAP_TLBI_FORGOTTEN], forgotten);
}

/* The tracepoints a probe goes on; only the walk's is required */
static struct {
	const char		*name;
	void			*probe;
	struct tracepoint	*tp;
} probes[] = {
	{ TP_NAME,			walk_probe },
	{ "kvm_nested_revmap_record",	revmap_record_probe },
	{ "kvm_nested_revmap_unmap",	revmap_unmap_probe },
	{ "kvm_nested_revmap_full",	revmap_full_probe },
	{ "kvm_nested_revmap_forget",	revmap_forget_probe },
};

static bool have_revmap(void)
{
	int i;

	for (i = 1; i < ARRAY_SIZE(probes); i++) {
		if (!probes[i].tp)
			return false;
	}
	return true;
}

/*
 * The sum of the per-CPU copies, to kfree(); counters that change meanwhile
 * may be torn across CPUs.
 */
static struct all_counters *sum_counters(void)
{
	struct all_counters *sum;
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

	int i, n = have_revmap() ? ARRAY_SIZE(probes) : 1;

	mutex_lock(&attach_lock);
	if (on && !attached) {
		for (i = 0; i < n && !ret; i++)
			ret = tracepoint_probe_register(probes[i].tp, probes[i].probe, NULL);
		/* All or none */
		if (ret) {
			for (i -= 2; i >= 0; i--)
				tracepoint_probe_unregister(probes[i].tp, probes[i].probe, NULL);
			tracepoint_synchronize_unregister();
		}
		attached = !ret;
	} else if (!on && attached) {
		for (i = 0; i < n; i++) {
			int r = tracepoint_probe_unregister(probes[i].tp,
							    probes[i].probe, NULL);

			ret = ret ?: r;
		}
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

static void show_walk_table(struct seq_file *m, const struct walk_counters *c)
{
	int op, l;

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
}

static int table_show(struct seq_file *m, void *unused)
{
	struct all_counters *c;
	int i;

	c = sum_counters();
	if (!c)
		return -ENOMEM;

	show_walk_table(m, &c->all);
	seq_puts(m, "\nof which on shadow stage-2s (nested virtualization):\n");
	show_walk_table(m, &c->shadow);
	if (have_revmap()) {
		seq_puts(m, "\nreverse map of the shadow stage-2s:\n");
		for (i = 0; i < NR_REVMAP_EVENTS; i++)
			seq_printf(m, "%-20s %12llu\n", revmap_names[i], c->revmap[i]);
	}
	kfree(c);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(table);

static void show_walk_counters(struct seq_file *m, const char *prefix,
			       const struct walk_counters *c)
{
	int op, l;

	for (op = 0; op < NR_OPS; op++) {
		const char *name = op_names[op];

		seq_printf(m, "%s.%s.walks %llu\n", prefix, name, c->walks[op]);
		for (l = 0; l < NR_LEVELS; l++) {
			seq_printf(m, "%s.%s.tables.l%d %llu\n", prefix, name,
				   level_of(l), c->tables[op][l]);
			seq_printf(m, "%s.%s.visited.l%d %llu\n", prefix, name,
				   level_of(l), c->visited[op][l]);
		}
	}
}

static int counters_show(struct seq_file *m, void *unused)
{
	struct all_counters *c;
	int i;

	c = sum_counters();
	if (!c)
		return -ENOMEM;

	show_walk_counters(m, "walk", &c->all);
	show_walk_counters(m, "shadow", &c->shadow);
	seq_printf(m, "revmap.available %d\n", have_revmap());
	for (i = 0; have_revmap() && i < NR_REVMAP_EVENTS; i++)
		seq_printf(m, "revmap.%s %llu\n", revmap_names[i], c->revmap[i]);
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
		memset(per_cpu_ptr(counters, cpu), 0, sizeof(struct all_counters));
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

static void find_tps(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		if (!strcmp(tp->name, probes[i].name))
			probes[i].tp = tp;
	}
}

static int __init kvm_s2_walk_stats_init(void)
{
	int ret;

	BUILD_BUG_ON(ARRAY_SIZE(op_names) != NR_OPS);
	BUILD_BUG_ON(ARRAY_SIZE(revmap_names) != NR_REVMAP_EVENTS);

	/*
	 * Look the tracepoints up by name rather than link against them, so
	 * that a kernel without them is told apart from a broken module.
	 */
	for_each_kernel_tracepoint(find_tps, NULL);
	walk_tp = probes[0].tp;
	if (!walk_tp) {
		pr_err("the running kernel has no %s tracepoint: build it with CONFIG_KVM_ARM64_PGTABLE_WALK_STATS=y (kvm-s2-walk debug layer)\n",
		       TP_NAME);
		return -ENODEV;
	}

	pr_info("reverse map of the shadow stage-2s: %s\n",
		have_revmap() ? "counted" : "not in this kernel");

	counters = alloc_percpu(struct all_counters);
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
MODULE_VERSION("5");
MODULE_LICENSE("GPL");
