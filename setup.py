"""Build script for fastconv's C/Cython extensions.

Each extension module is one Cython file plus the C sources of a few folders
under ``src/``.  Sources whose file name ends in ``-avx2.c`` or ``-avx512.c``
are compiled with that ISA's flags only, so the binary still runs on any
x86-64; the runtime picks the kernels (see ``src/common/isa.h``).  On other
architectures those files are skipped and the portable C kernels are used.

OpenMP is probed; without it the extension builds serial, with a warning.

Developer knobs: ``FASTCONV_EXTENSIONS=_pool,_cpu`` builds only those modules
(handy while one part of the tree does not compile); ``FASTCONV_BUILD_JOBS=N``
caps the parallel compiles (default: one per CPU).
"""
import glob
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

IS_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")

ISA_FLAGS = {
    "-avx2.c": ["-mavx2", "-mfma", "-mf16c"],
    "-avx512.c": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma",
                  "-mavx2", "-mf16c"],
}

BASE_FLAGS = ["-O3", "-std=gnu11", "-fno-strict-aliasing", "-Wall", "-Wno-unused-function",
              "-Wno-unknown-pragmas"]


def headers(*folders):
    """Headers an extension depends on: a change to one rebuilds its sources."""
    found = glob.glob(os.path.join("src", "*.pxd"))
    for folder in folders:
        found += glob.glob(os.path.join("src", folder, "*.h"))
        found += glob.glob(os.path.join("src", folder, "*.inc"))
    return sorted(found)


def sources(*folders):
    files = []
    for folder in folders:
        for path in sorted(glob.glob(os.path.join("src", folder, "*.c"))):
            if not IS_X86 and any(path.endswith(sfx) for sfx in ISA_FLAGS):
                continue
            files.append(path)
    return files


# module name -> (Cython file, C source folders)
MODULES = {
    "_cpu": ("src/cpu.pyx", ["common", "kernels", "cpu"]),
    "_conv": ("src/conv.pyx", ["common", "kernels", "conv"]),
    "_conv_grad": ("src/conv_grad.pyx", ["common", "kernels", "conv_grad"]),
    "_pool": ("src/pool.pyx", ["common", "kernels", "pool"]),
}


def openmp_flags():
    """Return (compile, link) flags for OpenMP, or None if the compiler lacks it."""
    if os.environ.get("FASTCONV_NO_OPENMP"):
        return None
    cc = sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()[0]
    if shutil.which(cc) is None:
        cc = "cc"
    code = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(code)
        for flag in ("-fopenmp", "-Xpreprocessor -fopenmp"):
            cmd = [cc, *flag.split(), src, "-o", os.path.join(tmp, "probe")]
            try:
                ok = subprocess.run(cmd, capture_output=True).returncode == 0
            except OSError:
                ok = False
            if ok:
                return flag.split(), flag.split()[-1:] if flag == "-fopenmp" else ["-lomp"]
    return None


def build_jobs():
    """Parallel compile jobs: FASTCONV_BUILD_JOBS, else one per CPU this process may use."""
    env = os.environ.get("FASTCONV_BUILD_JOBS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


class BuildExt(build_ext):
    """build_ext that adds per-file ISA flags (the runtime dispatch needs them),
    compiles an extension's sources in parallel, and compiles a source shared by
    several extensions (the kernels) once: every module links the same objects,
    built with the same flags into the same build_temp path."""

    def build_extensions(self):
        compiler = self.compiler
        if compiler.compiler_type != "unix":
            return super().build_extensions()
        original_compile = compiler._compile
        # object path -> [command signature, done event, error] of its compile
        # this run. `build_ext -j N` builds extensions in parallel threads that
        # share the kernel objects: the first to claim an object compiles it,
        # the others wait for it (compiling it twice at once left a module
        # linked against a half-written object: an undefined kernel symbol)
        built = {}
        lock = threading.Lock()

        def compile_one(obj, src, ext, cc_args, extra_postargs, pp_opts):
            extra = list(extra_postargs)
            for suffix, flags in ISA_FLAGS.items():
                if src.endswith(suffix):
                    extra += flags
            signature = (src, tuple(cc_args), tuple(extra), tuple(pp_opts))
            with lock:
                entry = built.get(obj)
                mine = entry is None or entry[0] != signature
                if mine:
                    entry = built[obj] = [signature, threading.Event(), None]
            if not mine:
                entry[1].wait()
                if entry[2] is not None:
                    raise entry[2]
                return
            try:
                original_compile(obj, src, ext, cc_args, extra, pp_opts)
            except BaseException as exc:
                entry[2] = exc
                raise
            finally:
                entry[1].set()

        def parallel_compile(sources, output_dir=None, macros=None, include_dirs=None,
                             debug=False, extra_preargs=None, extra_postargs=None,
                             depends=None):
            macros, objects, extra_postargs, pp_opts, build = compiler._setup_compile(
                output_dir, macros, include_dirs, sources, depends, extra_postargs)
            cc_args = compiler._get_cc_args(pp_opts, debug, extra_preargs)
            todo = [(obj, *build[obj]) for obj in objects if obj in build]
            # slowest first (the big drivers), so no long compile starts last
            todo.sort(key=lambda job: -os.path.getsize(job[1]))
            with ThreadPoolExecutor(build_jobs()) as pool:
                futures = [pool.submit(compile_one, obj, src, ext, cc_args, extra_postargs,
                                       pp_opts) for obj, src, ext in todo]
                for future in futures:
                    future.result()  # re-raises a CompileError
            return objects

        compiler._compile = compile_one
        compiler.compile = parallel_compile
        super().build_extensions()


def extensions():
    wanted = os.environ.get("FASTCONV_EXTENSIONS")
    wanted = set(wanted.split(",")) if wanted else None
    omp = openmp_flags()
    if omp is None:
        warnings.warn("fastconv: the C compiler has no OpenMP; building serial kernels")
        omp_compile, omp_link = [], []
    else:
        omp_compile, omp_link = omp
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
              ("FC_HAVE_OPENMP", "1" if omp else "0"),
              ("FC_X86", "1" if IS_X86 else "0")]
    exts = []
    for name, (pyx, folders) in MODULES.items():
        if wanted is not None and name not in wanted:
            continue
        exts.append(Extension(
            f"fastconv.{name}",
            [pyx, *sources(*folders)],
            include_dirs=[np.get_include(), "src", "src/common"],
            depends=headers(*folders),
            define_macros=macros,
            extra_compile_args=BASE_FLAGS + omp_compile,
            extra_link_args=omp_link,
        ))
    return cythonize(exts, language_level=3, compiler_directives={
        "boundscheck": False, "wraparound": False, "cdivision": True,
        "initializedcheck": False, "embedsignature": True,
    })


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
