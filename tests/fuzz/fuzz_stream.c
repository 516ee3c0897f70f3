/* SPDX-License-Identifier: MIT */
/*
 * fuzz_stream.c - stream pipelines against the same pipeline computed on
 * plain arrays. The input picks a source (an iter, an unbounded or a
 * bounded receiver stream, or a from_fn script with error items), up to
 * six stages (map with error results, filter, filter_map, take, skip,
 * take_while, skip_while, scan with an early end, enumerate and zip each
 * followed by a folding map, chain, fuse, inspect; chunks or ready_chunks
 * last), and a consumer (next, next_many, collect or count, stopping
 * early or not).
 *
 * Every item is a unique id (a uint64_t) whose value is in a table, so
 * that every item can be accounted for: each id made must end exactly
 * once - taken by a map function (which makes a new id), handed to the
 * consumer, or given to the item destructor (filtered out, skipped, cut
 * off by take, left in the pipeline when it is dropped). Every stream in
 * the pipeline has that destructor (map and its kin get it set on their
 * output). Error items pass every stage unchanged and are compared too.
 */
#include "fuzz.h"

enum { MAXV = 600, MAXSRC = 64, MAXST = 6 };

/* The model's item: a value, or an error item (err < 0). */
typedef struct {
    int err;
    int64_t v;
} ent_t;

typedef struct {
    int n;
    ent_t e[MAXV];
} vec_t;

static int64_t val[FZ_MAX_IDS];
static unsigned char used[FZ_MAX_IDS];  /* consumed by a map function */
static unsigned char given[FZ_MAX_IDS]; /* handed to the consumer */
static uint64_t next_id;

static uint64_t mk(int64_t v)
{
    FZ_CHECK(next_id < FZ_MAX_IDS);
    val[next_id] = v;
    return next_id++;
}

static void consume(uint64_t id)
{
    FZ_CHECK(id < next_id && !used[id] && !given[id] && !fz_dead[id]);
    used[id] = 1;
}

/* ---- stage functions; ud points at the stage's parameters ---- */

typedef struct {
    int kind;
    int64_t a, b, m;
    uint64_t n;
    int64_t acc; /* scan state */
    vec_t other; /* chain / zip: the second stream's items */
} stage_t;

#define ERR_ITEM (RILL_EUSER - 7)

static int64_t map_v(const stage_t *st, int64_t v)
{
    return (int64_t)((uint64_t)v * (uint64_t)st->a + (uint64_t)st->b) % 1000;
}

/* map (m: values divisible by m become error items) and filter_map (m:
 * values divisible by m give nothing). */
static int map_step(const stage_t *st, void *in, void *out, int on_m)
{
    uint64_t id = *(uint64_t *)in;
    consume(id);
    if (st->m && val[id] % st->m == 0)
        return on_m;
    *(uint64_t *)out = mk(map_v(st, val[id]));
    return 0;
}

static int f_map(void *ud, void *in, void *out)
{
    return map_step(ud, in, out, ERR_ITEM);
}

static int f_filter_map(void *ud, void *in, void *out)
{
    return map_step(ud, in, out, 1);
}

static bool f_filter(void *ud, const void *item)
{
    const stage_t *st = ud;
    return val[*(const uint64_t *)item] % st->m != 0;
}

static bool f_below(void *ud, const void *item)
{
    return val[*(const uint64_t *)item] < ((const stage_t *)ud)->m;
}

static int f_scan(void *ud, void *in, void *out)
{
    stage_t *st = ud;
    uint64_t id = *(uint64_t *)in;
    consume(id);
    st->acc += val[id];
    if (st->acc > st->m)
        return RILL_DONE;
    *(uint64_t *)out = mk(st->acc);
    return 0;
}

typedef struct {
    uint64_t index, id;
} indexed_t;

static int f_fold_enum(void *ud, void *in, void *out)
{
    (void)ud;
    indexed_t *p = in;
    consume(p->id);
    *(uint64_t *)out = mk((int64_t)(p->index * 1000 + (uint64_t)val[p->id]));
    return 0;
}

typedef struct {
    uint64_t a, b;
} pair_t;

static int f_fold_zip(void *ud, void *in, void *out)
{
    (void)ud;
    pair_t *p = in;
    consume(p->a);
    consume(p->b);
    *(uint64_t *)out = mk(val[p->a] * 31 + val[p->b]);
    return 0;
}

static void f_inspect(void *ud, const void *item)
{
    (void)item;
    ((stage_t *)ud)->acc++;
}

static void id_dtor(void *item, void *ud)
{
    fz_dtor(item, ud);
}

/* ---- the model: each stage on arrays ---- */

static void model_stage(stage_t *st, vec_t *v)
{
    vec_t o = {0};
    uint64_t seen = 0;
    bool passing = false;
    if (st->kind == 3 && st->n == 0)
        goto out; /* take(0) ends at once */
    for (int i = 0; i < v->n; i++) {
        ent_t e = v->e[i];
        if (e.err) {
            o.e[o.n++] = e;
            continue;
        }
        switch (st->kind) {
        case 0: /* map */
            if (st->m && e.v % st->m == 0)
                e = (ent_t){ERR_ITEM, 0};
            else
                e.v = map_v(st, e.v);
            o.e[o.n++] = e;
            break;
        case 1: /* filter */
            if (e.v % st->m != 0)
                o.e[o.n++] = e;
            break;
        case 2: /* filter_map */
            if (e.v % st->m != 0)
                o.e[o.n++] = (ent_t){0, map_v(st, e.v)};
            break;
        case 3: /* take */
            if (seen++ < st->n)
                o.e[o.n++] = e;
            if (seen >= st->n)
                goto out;
            break;
        case 4: /* skip */
            if (seen++ >= st->n)
                o.e[o.n++] = e;
            break;
        case 5: /* take_while */
            if (e.v >= st->m)
                goto out;
            o.e[o.n++] = e;
            break;
        case 6: /* skip_while */
            if (passing || e.v >= st->m) {
                passing = true;
                o.e[o.n++] = e;
            }
            break;
        case 7: /* scan */
            st->acc += e.v;
            if (st->acc > st->m)
                goto out;
            o.e[o.n++] = (ent_t){0, st->acc};
            break;
        case 8: /* enumerate + fold */
            o.e[o.n++] = (ent_t){0, (int64_t)(seen++ * 1000 + (uint64_t)e.v)};
            break;
        default: /* fuse, inspect */
            o.e[o.n++] = e;
            break;
        }
    }
out:
    if (st->kind == 9) { /* chain */
        for (int i = 0; i < st->other.n; i++)
            o.e[o.n++] = st->other.e[i];
    } else if (st->kind == 10) { /* zip + fold: no error items here */
        o.n = v->n < st->other.n ? v->n : st->other.n;
        for (int i = 0; i < o.n; i++)
            o.e[i] = (ent_t){0, v->e[i].v * 31 + st->other.e[i].v};
    }
    st->acc = 0;
    *v = o;
}

/* ---- building the pipeline ---- */

static rill_stream_t *iter_of(const vec_t *v)
{
    uint64_t ids[MAXSRC];
    for (int i = 0; i < v->n; i++)
        ids[i] = mk(v->e[i].v);
    rill_stream_t *s;
    FZ_EQ(rill_stream_iter(&s, ids, (size_t)v->n, sizeof ids[0]), 0);
    FZ_EQ(rill_stream_set_item_dtor(s, id_dtor, NULL), 0);
    return s;
}

typedef struct {
    const vec_t *v;
    int pos;
} script_t;

static int f_script(void *ud, rill_cx_t *cx, void *out)
{
    (void)cx;
    script_t *sc = ud;
    if (sc->pos >= sc->v->n)
        return RILL_DONE;
    ent_t e = sc->v->e[sc->pos++];
    if (e.err)
        return e.err;
    *(uint64_t *)out = mk(e.v);
    return 0;
}

/* Source kinds: 0 iter, 1 unbounded receiver, 2 bounded receiver, 3 a
 * from_fn script that also gives error items. */
static rill_stream_t *source(unsigned kind, const vec_t *v, script_t *sc)
{
    rill_stream_t *s;
    if (kind == 0)
        return iter_of(v);
    if (kind == 3) {
        FZ_EQ(rill_stream_from_fn(&s, sizeof(uint64_t), f_script, sc, NULL), 0);
        FZ_EQ(rill_stream_set_item_dtor(s, id_dtor, NULL), 0);
        return s;
    }
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_channel_config_t o = {.item_dtor = id_dtor};
    FZ_EQ(rill_channel_new(&tx, &rx, sizeof(uint64_t),
                           kind == 1 ? RILL_UNBOUNDED : MAXSRC, &o),
          0);
    for (int i = 0; i < v->n; i++) {
        uint64_t id = mk(v->e[i].v);
        FZ_EQ(rill_try_send(tx, &id), 0);
    }
    FZ_EQ(rill_sender_release(tx), 0);
    FZ_EQ(rill_receiver_into_stream(rx, &s), 0);
    return s;
}

static void read_vec(fz_in_t *in, vec_t *v, bool errors)
{
    v->n = (int)fz_pick(in, MAXSRC);
    for (int i = 0; i < v->n; i++) {
        unsigned b = fz_u8(in);
        v->e[i] = errors && b >= 240 ? (ent_t){ERR_ITEM - (int)(b - 240), 0}
                                     : (ent_t){0, (int64_t)(b % 200)};
    }
}

/* Add stage st to *s; a stage that makes new items gets the destructor. */
static void add_stage(rill_stream_t **s, stage_t *st)
{
    switch (st->kind) {
    case 0:
        FZ_EQ(rill_stream_map(s, f_map, st, sizeof(uint64_t)), 0);
        break;
    case 1:
        FZ_EQ(rill_stream_filter(s, f_filter, st), 0);
        return;
    case 2:
        FZ_EQ(rill_stream_filter_map(s, f_filter_map, st, sizeof(uint64_t)), 0);
        break;
    case 3:
        FZ_EQ(rill_stream_take(s, st->n), 0);
        return;
    case 4:
        FZ_EQ(rill_stream_skip(s, st->n), 0);
        return;
    case 5:
        FZ_EQ(rill_stream_take_while(s, f_below, st), 0);
        return;
    case 6:
        FZ_EQ(rill_stream_skip_while(s, f_below, st), 0);
        return;
    case 7:
        FZ_EQ(rill_stream_scan(s, f_scan, st, sizeof(uint64_t)), 0);
        break;
    case 8:
        FZ_EQ(rill_stream_enumerate(s, sizeof(indexed_t),
                                    offsetof(indexed_t, id)),
              0);
        FZ_EQ(rill_stream_map(s, f_fold_enum, st, sizeof(uint64_t)), 0);
        break;
    case 9:
        FZ_EQ(rill_stream_chain(s, iter_of(&st->other)), 0);
        return;
    case 10: {
        rill_stream_t *o = iter_of(&st->other);
        FZ_EQ(rill_stream_zip(s, o, sizeof(pair_t), offsetof(pair_t, b)), 0);
        FZ_EQ(rill_stream_map(s, f_fold_zip, st, sizeof(uint64_t)), 0);
        break;
    }
    case 11:
        FZ_EQ(rill_stream_fuse(s), 0);
        return;
    default:
        FZ_EQ(rill_stream_inspect(s, f_inspect, st), 0);
        return;
    }
    FZ_EQ(rill_stream_set_item_dtor(*s, id_dtor, NULL), 0);
}

/* ---- consuming ---- */

static void got_item(const vec_t *want, int *k, int r, const uint64_t *id)
{
    FZ_CHECK(*k < want->n);
    const ent_t *e = &want->e[(*k)++];
    FZ_EQ(r, e->err);
    if (r == 0) {
        FZ_CHECK(*id < next_id && !given[*id] && !used[*id] && !fz_dead[*id]);
        given[*id] = 1;
        FZ_EQ(val[*id], e->v);
    }
}

static void consume_chunks(fz_in_t *in, rill_stream_t *s, const vec_t *want,
                           size_t n, bool exact)
{
    int k = 0, r = 0;
    unsigned limit = fz_u8(in);
    rill_chunk_t c;
    while (limit-- && (r = rill_next(s, &c)) != RILL_DONE) {
        if (r < 0) {
            got_item(want, &k, r, NULL);
            continue;
        }
        FZ_CHECK(c.len >= 1 && c.len <= n);
        int items_left = 0;
        for (int j = k; j < want->n && !want->e[j].err; j++)
            items_left++;
        /* chunks: full but the last; ready_chunks: any size up to n. */
        if (exact)
            FZ_EQ(c.len, (size_t)items_left < n ? (size_t)items_left : n);
        for (size_t j = 0; j < c.len; j++)
            got_item(want, &k, 0, &RILL_CHUNK_AT(&c, uint64_t, j));
        rill_chunk_destroy(&c);
    }
    if (r == RILL_DONE)
        FZ_EQ(k, want->n);
    rill_stream_free(s);
}

static void consume_items(fz_in_t *in, rill_stream_t *s, const vec_t *want)
{
    int k = 0, r = 0;
    unsigned mode = fz_pick(in, 4), limit = fz_u8(in);
    if (mode == 2) { /* collect: every item, errors skipped */
        rill_chunk_t c;
        FZ_EQ(rill_stream_collect(s, &c), 0);
        for (size_t j = 0; j < c.len; j++) {
            while (k < want->n && want->e[k].err)
                k++;
            got_item(want, &k, 0, &RILL_CHUNK_AT(&c, uint64_t, j));
        }
        while (k < want->n && want->e[k].err)
            k++;
        FZ_EQ(k, want->n);
        rill_chunk_destroy(&c);
        return;
    }
    if (mode == 3) { /* count: the items counted are released */
        uint64_t n = 0;
        int items = 0;
        for (int j = 0; j < want->n; j++)
            items += !want->e[j].err;
        FZ_EQ(rill_stream_count(s, &n), 0);
        FZ_EQ(n, (uint64_t)items);
        return;
    }
    while (limit--) {
        uint64_t ids[8];
        size_t n = 1;
        if (mode == 1)
            r = rill_next_many(s, ids, 1 + limit % 8, &n);
        else
            r = rill_next(s, &ids[0]);
        if (r == RILL_DONE)
            break;
        for (size_t j = 0; j < (r == 0 ? n : 1); j++)
            got_item(want, &k, r, &ids[j]);
    }
    if (r == RILL_DONE)
        FZ_EQ(k, want->n);
    rill_stream_free(s);
}

static void body(fz_in_t *in)
{
    static vec_t src, want;
    static stage_t st[MAXST];
    next_id = 0;
    memset(used, 0, sizeof used);
    memset(given, 0, sizeof given);
    script_t sc = {&src, 0};
    unsigned kind = fz_pick(in, 4);
    bool errors = kind == 3;
    read_vec(in, &src, errors);
    rill_stream_t *s = source(kind, &src, &sc);
    want = src;
    int nst = (int)fz_pick(in, MAXST + 1), last = -1;
    for (int i = 0; i < nst; i++) {
        stage_t *p = &st[i];
        memset(p, 0, sizeof *p);
        p->kind = (int)fz_pick(in, 15);
        p->a = 1 + fz_pick(in, 7);
        p->b = fz_pick(in, 50);
        p->m = p->kind == 0 ? fz_pick(in, 9) : 1 + fz_pick(in, 250);
        if (p->kind == 1 || p->kind == 2)
            p->m = 2 + p->m % 5;
        p->n = fz_pick(in, 12);
        if (p->kind == 9 || p->kind == 10)
            read_vec(in, &p->other, false);
        /* With error items: zip's pairing and chunks' order (an error
         * item passes ahead of the chunk being filled) are not modelled. */
        if (errors && (p->kind == 10 || p->kind >= 13))
            p->kind = 11;
        if (p->kind >= 13) {
            last = p->kind;
            break;
        }
        add_stage(&s, p);
        model_stage(p, &want);
        errors |= p->kind == 0 && p->m; /* a map that makes error items */
    }
    if (last >= 13) {
        size_t n = 1 + fz_pick(in, 8);
        if (last == 13)
            FZ_EQ(rill_stream_chunks(&s, n), 0);
        else
            FZ_EQ(rill_stream_ready_chunks(&s, n), 0);
        consume_chunks(in, s, &want, n, last == 13);
    } else {
        consume_items(in, s, &want);
    }
    /* Every id ended exactly once. */
    for (uint64_t id = 0; id < next_id; id++)
        if (used[id] + given[id] + fz_dead[id] != 1) {
            fprintf(stderr, "id %llu: used %d given %d destroyed %d\n",
                    (unsigned long long)id, used[id], given[id], fz_dead[id]);
            abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, body);
}
