; SPDX-License-Identifier: MIT
;
; hello.asm: the guest `make demo` boots with `memtree run --bios`. A
; 64 KiB BIOS image (QEMU's -bios wants a multiple of 64 KiB) whose last
; byte lands at 0xFFFFFFFF. From the reset vector it enters 32-bit
; protected mode, then checks the three kinds of access a VMM serves and
; reports on the debug console (port 0xe9):
;   RAM   a store and a load at 0x2000 (no exit: KVM maps the RAM)
;   MMIO  pc-testdev-iomem at 0xff000000: a store and a load (two exits)
;   PIO   pc-testdev-ioport at 0xe0: out and in (two exits)
; and leaves through isa-debug-exit (port 0xf4): value 0 when every check
; passed, so the VMM exits with status (0 << 1) | 1 = 1; value 1 (status
; 3) otherwise.
;
; Build: nasm -f bin -o hello.bin hello.asm

%define ROMBASE   0xFFFF0000
%define CON       0xe9
%define EXIT      0xf4
%define RAM_TEST  0x2000
%define MMIO_TEST 0xff000000
%define PIO_TEST  0xe0
%define PATTERN   0x6d656d74            ; "tmem"

        org ROMBASE
        bits 32

pm32:   mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, 0x8000
        xor ebp, ebp                    ; failures

        mov esi, msg_hello
        call puts

        mov esi, msg_ram
        call puts
        mov dword [RAM_TEST], PATTERN
        mov eax, [RAM_TEST]
        call check

        mov esi, msg_mmio
        call puts
        mov dword [MMIO_TEST], PATTERN
        mov eax, [MMIO_TEST]
        call check

        mov esi, msg_pio
        call puts
        mov eax, PATTERN
        mov dx, PIO_TEST
        out dx, eax
        xor eax, eax
        in eax, dx
        call check

        mov esi, msg_bye
        call puts
        mov eax, ebp
        test eax, eax
        setnz al
        out EXIT, al                    ; the VMM exits here
        cli
        hlt

; check: eax == PATTERN? print "ok" or "FAILED"
check:  mov esi, msg_ok
        cmp eax, PATTERN
        je puts
        inc ebp
        mov esi, msg_fail
        ; fall through
; puts: esi -> NUL-terminated string
puts:   mov dx, CON
.l:     lodsb
        test al, al
        jz .d
        out dx, al
        jmp .l
.d:     ret

msg_hello: db "Hello from a memtree guest: 32-bit protected mode reached.", 10, 0
msg_ram:   db "  RAM  store/load at 0x2000 ........ ", 0
msg_mmio:  db "  MMIO store/load at 0xff000000 .... ", 0
msg_pio:   db "  PIO  out/in at port 0xe0 ......... ", 0
msg_ok:    db "ok", 10, 0
msg_fail:  db "FAILED", 10, 0
msg_bye:   db "Leaving through isa-debug-exit (port 0xf4).", 10, 0

        align 8, db 0
gdt:    dq 0
        dq 0x00CF9B000000FFFF           ; 0x08: code, flat, 32-bit, accessed
        dq 0x00CF93000000FFFF           ; 0x10: data, flat, accessed
gdt_end:
gdt_desc:
        dw gdt_end - gdt - 1
        dd gdt

        times 0xFFC0 - ($ - $$) db 0xF4
        bits 16
entry16:
        cli
        cld
        o32 lgdt [cs:(gdt_desc - $$)]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword 0x08:pm32

        times 0xFFF0 - ($ - $$) db 0xF4
        jmp near entry16                ; reset vector: CS base 0xFFFF0000, IP 0xFFF0
        times 0x10000 - ($ - $$) db 0xF4
