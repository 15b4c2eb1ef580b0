/* heap.c: a C program for vmlab's kernel, through programs/os/vmlab.h only (no libc). It
   grows its heap with sbrk, fills a linked list of 2000 nodes across many pages, maps an
   anonymous buffer, checks both, prints what it found, and exits 0 when all is well.
     vmlab run programs/os/c/heap.elf --stats
     vmlab run programs/os/c/heap.elf --set os.user_frames=12 --stats   (it pages) */
#include "../vmlab.h"

struct node {
    struct node *next;
    unsigned long value;
    char pad[48];
};

int main(void)
{
    struct node *head = 0;
    for (unsigned long i = 0; i < 2000; i++) {
        struct node *n = sbrk(sizeof *n);
        if (n == (void *)-1)
            return 2;
        n->value = i * i;
        n->next = head;
        head = n;
    }
    unsigned long sum = 0, count = 0;
    for (struct node *n = head; n; n = n->next) {
        sum += n->value;
        count++;
    }
    unsigned long *buf = mmap(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED)
        return 3;
    for (unsigned long i = 0; i < 4 * PAGE_SIZE / sizeof *buf; i++)
        buf[i] = i;
    unsigned long check = 0;
    for (unsigned long i = 0; i < 4 * PAGE_SIZE / sizeof *buf; i++)
        check += buf[i];
    munmap(buf, 4 * PAGE_SIZE);
    puts_("process ");
    put_u64((unsigned long)getpid());
    puts_(": ");
    put_u64(count);
    puts_(" nodes, sum of squares ");
    put_u64(sum);
    puts_("\n");
    /* 0^2 + ... + 1999^2 = 1999 * 2000 * 3999 / 6; 0 + ... + 2047 = 2047 * 2048 / 2. */
    if (count != 2000 || sum != 1999UL * 2000 * 3999 / 6 || check != 2047UL * 2048 / 2)
        return 1;
    return 0;
}
