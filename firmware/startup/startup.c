/* Cortex-M start-up in C: vector table, reset, fault reports, SysTick wrap count.
 *
 * Reset_Handler enables the FPU (when built with one), copies .data from flash, zeroes .bss,
 * calls main() and hands its return code to startup_exit(). Fault handlers write the fault status
 * registers and the faulting pc into one line and hand it to startup_fault() with the codes of
 * platform.h, so a test sees "BusFault at pc=..." instead of a hang. Both hooks come from the
 * program (startup.h): semihosting in the runner builds, a LOG frame over the UART in the
 * evaluation firmware; this file itself uses no semihosting. No vendor code, no CMSIS.
 */
#include <stdint.h>
#include <string.h>

#include "platform.h"
#include "startup.h"

/* ---- symbols from the linker script (codegen_templates/linker.ld.j2) -------------------------- */
extern uint32_t __data_load__[], __data_start__[], __data_end__[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __stack_top__[];

int main(void);

/* ---- System Control Block registers (Armv7-M ARM, B3.2) --------------------------------------- */
#define REG(addr) (*(volatile uint32_t *)(addr))
#define SCB_VTOR REG(0xE000ED08u)
#define SCB_SHCSR REG(0xE000ED24u)
#define SCB_CFSR REG(0xE000ED28u)
#define SCB_HFSR REG(0xE000ED2Cu)
#define SCB_MMFAR REG(0xE000ED34u)
#define SCB_BFAR REG(0xE000ED38u)
#define SCB_CPACR REG(0xE000ED88u)

#define SHCSR_MEMFAULTENA (1u << 16)
#define SHCSR_BUSFAULTENA (1u << 17)
#define SHCSR_USGFAULTENA (1u << 18)

volatile uint32_t startup_systick_wraps;

void Reset_Handler(void);
void SysTick_Handler(void);
static void Fault_Handler(void);

/* ---- vector table ----------------------------------------------------------------------------- */
/* Only the 16 system exceptions: no peripheral interrupt is ever enabled, so none can arrive. */
typedef void (*vector_t)(void);
__attribute__((section(".isr_vector"), used)) const vector_t vector_table[16] = {
    (vector_t)(uintptr_t)__stack_top__, /* initial SP: top of RAM */
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    0, 0, 0, 0,    /* reserved */
    Fault_Handler, /* SVCall: never called, so unexpected */
    Fault_Handler, /* DebugMonitor */
    0,             /* reserved */
    Fault_Handler, /* PendSV */
    SysTick_Handler,
};

/* ---- reset ------------------------------------------------------------------------------------ */
void Reset_Handler(void)
{
#ifdef __ARM_FP
    /* CP10 and CP11 full access before any floating-point instruction, including main's. */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    SCB_VTOR = (uint32_t)(uintptr_t)vector_table;
    /* Give MemManage, BusFault and UsageFault their own exceptions so the report names them
     * (otherwise every fault escalates to HardFault). */
    SCB_SHCSR |= SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA | SHCSR_USGFAULTENA;

    memcpy(__data_start__, __data_load__, (size_t)((char *)__data_end__ - (char *)__data_start__));
    memset(__bss_start__, 0, (size_t)((char *)__bss_end__ - (char *)__bss_start__));

    startup_exit(main());
}

void SysTick_Handler(void)
{
    startup_systick_wraps++;
}

/* ---- faults ----------------------------------------------------------------------------------- */
/* The report line: "edgexf: <name> exception=0x... pc=0x... lr=0x... CFSR=... HFSR=... BFAR=... MMFAR=...". */
#define FAULT_REPORT_CHARS 160

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static char *put_hex(char *p, const char *label, uint32_t v)
{
    p = put_str(p, label);
    *p++ = '0';
    *p++ = 'x';
    for (int shift = 28; shift >= 0; shift -= 4) {
        *p++ = "0123456789abcdef"[(v >> shift) & 0xFu];
    }
    return p;
}

/* Called by Fault_Handler with the exception frame the core pushed (r0-r3, r12, lr, pc, xPSR).
 * Not static: only the assembly below refers to it. */
__attribute__((used, noreturn)) void fault_report(const uint32_t *frame)
{
    uint32_t exception;
    __asm__ volatile("mrs %0, ipsr" : "=r"(exception));
    exception &= 0x1FFu;

    const char *name = "unexpected interrupt";
    int32_t code = PLAT_EXIT_UNEXPECTED_IRQ;
    switch (exception) {
    case 2: name = "NMI"; code = PLAT_EXIT_NMI; break;
    case 3: name = "HardFault"; code = PLAT_EXIT_HARDFAULT; break;
    case 4: name = "MemManage fault"; code = PLAT_EXIT_MEMMANAGE; break;
    case 5: name = "BusFault"; code = PLAT_EXIT_BUSFAULT; break;
    case 6: name = "UsageFault"; code = PLAT_EXIT_USAGEFAULT; break;
    default: break;
    }
    char report[FAULT_REPORT_CHARS]; /* at most 144 with the longest name, the newline and NUL */
    char *p = put_str(report, "edgexf: ");
    p = put_str(p, name);
    p = put_hex(p, " exception=", exception);
    p = put_hex(p, " pc=", frame[6]);
    p = put_hex(p, " lr=", frame[5]);
    p = put_hex(p, " CFSR=", SCB_CFSR);
    p = put_hex(p, " HFSR=", SCB_HFSR);
    p = put_hex(p, " BFAR=", SCB_BFAR);
    p = put_hex(p, " MMFAR=", SCB_MMFAR);
    p = put_str(p, "\n");
    *p = '\0';
    startup_fault(report, code);
}

/* Naked: reads the stack pointer the core stacked the frame on (bit 2 of EXC_RETURN says which)
 * before any compiler-made prologue moves it. */
__attribute__((naked)) static void Fault_Handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "b fault_report\n\t");
}
