/*
 * threadpool.c - persistent worker threads for the CPU backend.
 *
 * Threads are created once per backend. A task is started by bumping a
 * generation counter; workers spin on it for a short while and then sleep on
 * a condition variable, so an idle engine (a chat waiting for input) burns no
 * CPU while a decode loop never pays for a wake-up. Barriers between ops spin
 * (with pause); only a wait of a millisecond or more yields the CPU (an
 * oversubscribed machine), since a yield costs a system call and, in a
 * virtual machine, tens of microseconds of wake-up latency on every barrier.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#include "cpu/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#define SPIN_BEFORE_SLEEP (1u << 20) /* pause iterations before a worker sleeps */
#define SPIN_BEFORE_YIELD (1u << 14) /* pause iterations between yields */

struct rf_cpu_pool {
    int n;                         /* threads including the caller */
    pthread_t *threads;
    int n_started;
    rf_cpu_task task;
    void *arg;
    atomic_uint gen;               /* bumped to start a task */
    atomic_int n_done;             /* workers finished with the current task */
    atomic_int n_sleeping;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* barrier */
    atomic_int bar_count;
    atomic_uint bar_gen;
};

typedef struct { rf_cpu_pool *p; int ith; } worker_arg;

static void spin_wait_pause(unsigned *spins) {
    if (++*spins % SPIN_BEFORE_YIELD == 0)
        sched_yield();
    else
        cpu_relax();
}

static void *worker_main(void *v) {
    worker_arg *wa = v;
    rf_cpu_pool *p = wa->p;
    int ith = wa->ith;
    rf__free(wa);
    unsigned seen = 0;
    for (;;) {
        unsigned spins = 0;
        unsigned g;
        while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->stop)) {
            if (++spins < SPIN_BEFORE_SLEEP) {
                if (spins % SPIN_BEFORE_YIELD == 0) sched_yield(); else cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->n_sleeping, 1);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->n_sleeping, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) break;
        seen = g;
        p->task(p->arg, ith, p->n);
        atomic_fetch_add(&p->n_done, 1);
    }
    return NULL;
}

rf_status rf__cpu_pool_create(int n_threads, rf_cpu_pool **out, rf_err *err) {
    *out = NULL;
    if (n_threads < 1 || n_threads > 1024)
        return rf__err(err, RF_ERR_INVALID_ARG, "thread count %d out of range 1..1024", n_threads);
    rf_cpu_pool *p = rf__calloc(1, sizeof *p);
    if (!p) return rf__err(err, RF_ERR_NOMEM, "thread pool: out of memory");
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (n_threads > 1) {
        p->threads = rf__calloc((size_t)n_threads, sizeof *p->threads);
        if (!p->threads) {
            rf__cpu_pool_free(p);
            return rf__err(err, RF_ERR_NOMEM, "thread pool: out of memory");
        }
        for (int i = 1; i < n_threads; i++) {
            worker_arg *wa = rf__malloc(sizeof *wa);
            if (!wa) {
                rf__cpu_pool_free(p);
                return rf__err(err, RF_ERR_NOMEM, "thread pool: out of memory");
            }
            wa->p = p;
            wa->ith = i;
            if (pthread_create(&p->threads[i], NULL, worker_main, wa) != 0) {
                rf__free(wa);
                rf__cpu_pool_free(p);
                return rf__err(err, RF_ERR_NOMEM, "thread pool: cannot start thread %d", i);
            }
            p->n_started = i;
        }
    }
    *out = p;
    return RF_OK;
}

void rf__cpu_pool_free(rf_cpu_pool *p) {
    if (!p) return;
    atomic_store(&p->stop, true);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->n_started; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    rf__free(p->threads);
    rf__free(p);
}

int rf__cpu_pool_size(const rf_cpu_pool *p) { return p->n; }

void rf__cpu_pool_run(rf_cpu_pool *p, rf_cpu_task task, void *arg) {
    if (p->n == 1) {
        task(arg, 0, 1);
        return;
    }
    p->task = task;
    p->arg = arg;
    atomic_store(&p->n_done, 0);
    atomic_store(&p->bar_count, 0);
    atomic_fetch_add(&p->gen, 1);
    if (atomic_load(&p->n_sleeping) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    task(arg, 0, p->n);
    unsigned spins = 0;
    while (atomic_load(&p->n_done) != p->n - 1) spin_wait_pause(&spins);
}

void rf__cpu_pool_barrier(rf_cpu_pool *p) {
    if (p->n == 1) return;
    unsigned g = atomic_load(&p->bar_gen);
    if (atomic_fetch_add(&p->bar_count, 1) == p->n - 1) {
        atomic_store(&p->bar_count, 0);
        atomic_fetch_add(&p->bar_gen, 1);
        return;
    }
    unsigned spins = 0;
    while (atomic_load(&p->bar_gen) == g) spin_wait_pause(&spins);
}
