# wasi_thread_start(tid, start_arg) for spawn_own_memory.c: the thread's first act is to
# move its stack pointer to the stack its creator gave it (the first word of start_arg),
# which C cannot do; then it calls thread_main(tid, start_arg).
	.globaltype	__stack_pointer, i32
	.functype	thread_main (i32, i32) -> ()

	.section	.text.wasi_thread_start,"",@
	.globl	wasi_thread_start
	.export_name	wasi_thread_start, wasi_thread_start
	.type	wasi_thread_start,@function
wasi_thread_start:
	.functype	wasi_thread_start (i32, i32) -> ()
	local.get	1
	i32.load	0
	global.set	__stack_pointer
	local.get	0
	local.get	1
	call	thread_main
	end_function
