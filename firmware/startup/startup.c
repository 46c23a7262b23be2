/* Cortex-M start-up in C: vector table, reset, fault reports, SysTick wrap count.
 *
 * Reset_Handler enables the FPU (when built with one), copies .data from flash, zeroes .bss,
 * calls main() and exits through semihosting with main's return code. Fault handlers print the
 * fault status registers and the faulting pc through semihosting and exit with the codes of
 * platform.h, so a test sees "BusFault at pc=..." instead of a hang. No vendor code, no CMSIS.
 */
#include <stdint.h>
#include <string.h>

#include "platform.h"
#include "semihost.h"
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

    semihost_exit(main());
}

void SysTick_Handler(void)
{
    startup_systick_wraps++;
}

/* ---- faults ----------------------------------------------------------------------------------- */
static void put_hex(const char *label, uint32_t v)
{
    char buf[24];
    size_t n = strlen(label);
    memcpy(buf, label, n);
    buf[n++] = '0';
    buf[n++] = 'x';
    for (int shift = 28; shift >= 0; shift -= 4) {
        buf[n++] = "0123456789abcdef"[(v >> shift) & 0xFu];
    }
    buf[n] = '\0';
    semihost_write0(buf);
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
    semihost_write0("edgexf: ");
    semihost_write0(name);
    put_hex(" exception=", exception);
    put_hex(" pc=", frame[6]);
    put_hex(" lr=", frame[5]);
    put_hex(" CFSR=", SCB_CFSR);
    put_hex(" HFSR=", SCB_HFSR);
    put_hex(" BFAR=", SCB_BFAR);
    put_hex(" MMFAR=", SCB_MMFAR);
    semihost_write0("\n");
    semihost_exit(code);
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
