/* SPDX-License-Identifier: MIT */
/*
 * blocking_producer.c - seed example 2: a blocking producer thread.
 *
 * Part 1, no bridge. tokio needs a std channel, a spawn_blocking
 * forwarder and a second (tokio) channel to get a plain thread's items
 * into a stream. In rill one channel serves both worlds: the plain thread
 * calls rill_send, which parks the thread while the channel is full; the
 * task drains the same channel as a stream.
 *
 * Part 2, rill_stream_from_blocking, for a foreign blocking source that
 * rill cannot change - here a pipe(2) that a legacy component writes
 * lines into, read with blocking read(2) on the runtime's blocking pool.
 */
#include <pthread.h>
#include <rill.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct msg {
    char text[48];
} msg_t;

static void sleep_ms(long ms) /* a plain thread's own, blocking sleep */
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- part 1: a plain thread sends straight into the channel ---- */

static void *synchronous_sender(void *arg)
{
    rill_sender_t *tx = arg;
    for (int i = 0; i < 5; i++) {
        msg_t m;
        snprintf(m.text, sizeof m.text, "Hello from synchronous sender %d", i);
        if (rill_send(tx, &m) != 0) { /* parks this thread when full */
            fprintf(stderr, "receiver dropped, sending failed.\n");
            break;
        }
        sleep_ms(70);
    }
    printf("Synchronous sender finished.\n");
    fflush(stdout);
    rill_sender_release(tx);
    return NULL;
}

/* ---- part 2: a foreign blocking source behind from_blocking ---- */

static void *legacy_writer(void *arg)
{
    int fd = *(int *)arg;
    for (int i = 0; i < 3; i++) {
        char line[32];
        int n = snprintf(line, sizeof line, "legacy record %d\n", i);
        if (write(fd, line, (size_t)n) != n)
            break;
        sleep_ms(30);
    }
    close(fd); /* EOF for the reader */
    return NULL;
}

/* Runs on the blocking pool: blocking reads, one line per item. */
static void read_pipe(void *ud, rill_sender_t *tx)
{
    FILE *in = fdopen(*(int *)ud, "r");
    msg_t m;
    while (in && fgets(m.text, sizeof m.text, in)) {
        m.text[strcspn(m.text, "\n")] = '\0';
        if (rill_send(tx, &m) == RILL_ECLOSED)
            break; /* the stream was dropped */
    }
    if (in)
        fclose(in);
}

static void *main_task(void *arg)
{
    (void)arg;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_stream_t *s;
    if (rill_channel_new(&tx, &rx, sizeof(msg_t), 100, NULL) ||
        rill_receiver_into_stream(rx, &s))
        return (void *)1;
    pthread_t t;
    pthread_create(&t, NULL, synchronous_sender, tx);
    printf("Starting to consume asynchronous stream from a plain thread...\n");
    msg_t m;
    while (rill_next(s, &m) == 0) {
        printf("Received from stream: %s\n", m.text);
        fflush(stdout);
        rill_sleep(RILL_MS(120));
    }
    printf("Asynchronous stream finished.\n");
    rill_stream_free(s);
    pthread_join(t, NULL);

    int fds[2];
    if (pipe(fds) != 0)
        return (void *)1;
    pthread_create(&t, NULL, legacy_writer, &fds[1]);
    if (rill_stream_from_blocking(&s, sizeof(msg_t), 16, read_pipe, &fds[0]))
        return (void *)1;
    while (rill_next(s, &m) == 0)
        printf("From the legacy pipe: %s\n", m.text);
    printf("Legacy source finished.\n");
    rill_stream_free(s);
    pthread_join(t, NULL);
    return NULL;
}

int main(void)
{
    rill_runtime_t *rt;
    void *failed = NULL;
    if (rill_runtime_new(&rt, NULL) != 0)
        return 1;
    int rc = rill_block_on(rt, main_task, NULL, &failed);
    rill_runtime_free(rt);
    return rc == 0 && !failed ? 0 : 1;
}
