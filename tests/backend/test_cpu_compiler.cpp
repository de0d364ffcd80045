// Tests of backend/cpu/compiler.hpp: cpp kernels compiled by the system
// compiler, run through the cpp ABI, cached on disk, and the errors on the
// way. The compiler is a wrapper script that logs each compile, so a test
// can tell that a cache hit ran no compiler. Each test has its own cache
// folder, whose path holds spaces.

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <wrapgraph/backend/cpu/compiler.hpp>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace cpu = wrapgraph::backend::cpu;
using wrapgraph::test::error_id;

// A fresh folder (its name holds spaces), removed with what is in it.
struct temp_dir : wrapgraph::test::temp_dir {
  temp_dir() : wrapgraph::test::temp_dir("wrapgraph cpu compiler") {}
};

/// Options whose compiler is a script in `dir` that appends a line to
/// `dir/compiles.log` for each compile (not for `--version`) and then runs
/// the default compiler; the cache is `dir/cache dir`.
cpu::compiler_options logging_options(const fs::path& dir) {
  std::string real;
  for (const std::string& word : cpu::compiler_options::default_compiler()) real += word + " ";
  const fs::path script = dir / "logging c++";
  std::ofstream(script) << "#!/bin/sh\n"
                        << "if [ \"$1\" != --version ]; then echo compile >> \"$(dirname \"$0\")/compiles.log\"; fi\n"
                        << "exec " << real << "\"$@\"\n";
  fs::permissions(script, fs::perms::owner_all);
  cpu::compiler_options options;
  options.compiler = {script.string()};
  options.cache_dir = dir / "cache dir";
  return options;
}

/// How many compiles the logging script has seen.
std::size_t compiles_logged(const fs::path& dir) {
  std::ifstream log(dir / "compiles.log");
  std::size_t lines = 0;
  for (std::string line; std::getline(log, line);) ++lines;
  return lines;
}

constexpr const char* add_source = R"(#include <cstdint>

extern "C" void k_add(void** params, const int64_t* program_id, const int64_t* num_programs) {
  (void)num_programs;
  const float* in0 = *static_cast<float**>(params[0]);
  const float* in1 = *static_cast<float**>(params[1]);
  float* out = *static_cast<float**>(params[2]);
  const int32_t xnumel = *static_cast<int32_t*>(params[3]);
  const int64_t start = program_id[0] * XBLOCK;
  for (int64_t i = start; i < start + XBLOCK && i < xnumel; ++i) out[i] = (in0[i] + in1[i]) * SCALE;
}
)";

/// out = (in0 + in1) * SCALE, XBLOCK elements per program; configs XBLOCK 4
/// and 8.
wrapgraph::kernel_definition_line add_kernel() {
  wrapgraph::kernel_definition_line def;
  def.kernel = "k_add";
  def.signature = {{"in_ptr0", "*fp32"}, {"in_ptr1", "*fp32"}, {"out_ptr0", "*fp32"},
                   {"xnumel", "i32"}, {"XBLOCK", "constexpr"}, {"SCALE", "constexpr"}};
  def.constants = {{"SCALE", 2.5}};
  def.configs = {{{"XBLOCK", std::int64_t{4}}, {"num_warps", std::int64_t{4}}},
                 {{"XBLOCK", std::int64_t{8}}, {"num_warps", std::int64_t{8}}}};
  def.implementations.cpp = wrapgraph::source_implementation{add_source, "k_add"};
  return def;
}

/// Runs `kernel` on 10 elements for programs 0 .. programs-1 of `total`;
/// returns out, where elements no program wrote stay -1.
std::vector<float> run_add(const cpu::compiled_kernel& kernel, std::int64_t programs, std::int64_t total) {
  std::vector<float> a, b, out(10, -1.0F);
  for (int i = 0; i < 10; ++i) {
    a.push_back(static_cast<float>(i));
    b.push_back(static_cast<float>(100 * i));
  }
  float* a_ptr = a.data();
  float* b_ptr = b.data();
  float* out_ptr = out.data();
  std::int32_t n = 10;
  void* params[] = {&a_ptr, &b_ptr, &out_ptr, &n};
  const std::int64_t num_programs[3] = {total, 1, 1};
  for (std::int64_t p = 0; p < programs; ++p) {
    const std::int64_t program_id[3] = {p, 0, 0};
    kernel.entry(params, program_id, num_programs);
  }
  return out;
}

float added(int i) { return static_cast<float>(101 * i) * 2.5F; }

std::string error_message(auto&& f) {
  try {
    f();
  } catch (const wrapgraph::backend_error& e) {
    return e.message();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("kernel_compiler compiles a cpp kernel whose entry adds two float arrays, XBLOCK elements per program") {
  temp_dir dir;
  cpu::kernel_compiler compiler(logging_options(dir.path));
  const cpu::compiled_kernel kernel = compiler.compile(add_kernel(), 0);
  CHECK(kernel.name == "k_add");
  REQUIRE(static_cast<bool>(kernel.entry));
  CHECK_FALSE(kernel.from_cache);
  CHECK(kernel.object.parent_path() == dir.path / "cache dir" / "cpu");
  CHECK(fs::is_regular_file(kernel.object));
  CHECK(compiler.compilations() == 1);
  CHECK(compiler.cache_hits() == 0);
  CHECK(compiles_logged(dir.path) == 1);

  // Program 0 alone writes XBLOCK = 4 elements: the config's define reached
  // the source, and so did the constant SCALE = 2.5.
  const std::vector<float> first = run_add(kernel, 1, 3);
  for (int i = 0; i < 4; ++i) CHECK(first[static_cast<std::size_t>(i)] == added(i));
  for (int i = 4; i < 10; ++i) CHECK(first[static_cast<std::size_t>(i)] == -1.0F);
  const std::vector<float> all = run_add(kernel, 3, 3);
  for (int i = 0; i < 10; ++i) CHECK(all[static_cast<std::size_t>(i)] == added(i));

  SUBCASE("compiling it again in the same compiler reuses the loaded object") {
    const cpu::compiled_kernel again = compiler.compile(add_kernel(), 0);
    CHECK(again.from_cache);
    CHECK(again.library == kernel.library);
    CHECK(static_cast<bool>(again.entry == kernel.entry));
    CHECK(compiler.compilations() == 1);
    CHECK(compiler.cache_hits() == 1);
    CHECK(compiles_logged(dir.path) == 1);
  }
}

TEST_CASE("a second kernel_compiler loads the cached object and runs no compiler; another config compiles anew") {
  temp_dir dir;
  const cpu::compiler_options options = logging_options(dir.path);
  fs::path object;
  {
    cpu::kernel_compiler first(options);
    object = first.compile(add_kernel(), 0).object;
  }
  REQUIRE(compiles_logged(dir.path) == 1);
  const auto written = fs::last_write_time(object);

  cpu::kernel_compiler second(options);
  const cpu::compiled_kernel cached = second.compile(add_kernel(), 0);
  CHECK(cached.from_cache);
  CHECK(cached.object == object);
  CHECK(second.compilations() == 0);
  CHECK(second.cache_hits() == 1);
  CHECK(compiles_logged(dir.path) == 1);
  CHECK(fs::last_write_time(object) == written);
  const std::vector<float> out = run_add(cached, 3, 3);
  for (int i = 0; i < 10; ++i) CHECK(out[static_cast<std::size_t>(i)] == added(i));

  const cpu::compiled_kernel other = second.compile(add_kernel(), 1);
  CHECK_FALSE(other.from_cache);
  CHECK(other.object != object);
  CHECK(second.compilations() == 1);
  CHECK(compiles_logged(dir.path) == 2);
  // XBLOCK = 8 now: program 0 alone writes 8 elements.
  const std::vector<float> wide = run_add(other, 1, 2);
  for (int i = 0; i < 8; ++i) CHECK(wide[static_cast<std::size_t>(i)] == added(i));
  for (int i = 8; i < 10; ++i) CHECK(wide[static_cast<std::size_t>(i)] == -1.0F);

  // The folder holds each object and its source, and no temporary files.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(object.parent_path())) names.push_back(entry.path().filename());
  CHECK(names.size() == 4);
  for (const std::string& name : names) CHECK_MESSAGE(name.find("tmp-") != 0, name);
}

TEST_CASE("threads that compile one kernel at once all get a working entry") {
  temp_dir dir;
  cpu::kernel_compiler compiler(logging_options(dir.path));
  std::vector<cpu::compiled_kernel> kernels(4);
  {
    std::vector<std::thread> threads;
    for (cpu::compiled_kernel& k : kernels) threads.emplace_back([&] { k = compiler.compile(add_kernel(), 0); });
    for (std::thread& t : threads) t.join();
  }
  CHECK(compiler.compilations() + compiler.cache_hits() == 4);
  CHECK(compiler.compilations() >= 1);
  for (const cpu::compiled_kernel& k : kernels) {
    REQUIRE(static_cast<bool>(k.entry));
    CHECK(k.library == kernels.front().library);
    CHECK(run_add(k, 3, 3)[9] == added(9));
  }
}

TEST_CASE("a kernel with a syntax error throws compile_failed with the kernel's name and the compiler's message") {
  temp_dir dir;
  cpu::kernel_compiler compiler(logging_options(dir.path));
  const wrapgraph::source_implementation broken{
      "#include <cstdint>\n"
      "extern \"C\" void k_broken(void** params, const int64_t* pid, const int64_t* n) {\n"
      "  int x = ;\n"
      "}\n",
      "k_broken"};
  const auto compile = [&] { (void)compiler.compile("k_broken", broken, {}); };
  CHECK(error_id<wrapgraph::backend_error>(compile) == "wrapgraph.kernel.compile_failed");
  const std::string message = error_message(compile);
  CHECK_MESSAGE(message.find("kernel 'k_broken' does not compile") != std::string::npos, message);
  // The source's own line numbers, under the kernel's name (#line 1).
  CHECK_MESSAGE(message.find("k_broken.cpp:3:") != std::string::npos, message);
  CHECK_MESSAGE(message.find("error") != std::string::npos, message);
  CHECK(compiler.compilations() == 0);
  CHECK(fs::is_empty(dir.path / "cache dir" / "cpu"));
}

TEST_CASE("a kernel whose source lacks its entry throws missing_entry naming the entry") {
  temp_dir dir;
  cpu::kernel_compiler compiler(logging_options(dir.path));
  const wrapgraph::source_implementation source{
      "#include <cstdint>\n"
      "extern \"C\" void k_other(void**, const int64_t*, const int64_t*) {}\n",
      "k_missing"};
  const auto compile = [&] { (void)compiler.compile("k_named", source, {}); };
  CHECK(error_id<wrapgraph::backend_error>(compile) == "wrapgraph.kernel.missing_entry");
  const std::string message = error_message(compile);
  CHECK_MESSAGE(message.find("'k_named'") != std::string::npos, message);
  CHECK_MESSAGE(message.find("'k_missing'") != std::string::npos, message);
}

TEST_CASE("define_lines prints each kind of value as a C literal, in the order given") {
  const wrapgraph::kernel_values values = {
      {"XBLOCK", std::int64_t{128}},
      {"OFFSET", std::int64_t{-3}},
      {"LOWEST", std::numeric_limits<std::int64_t>::min()},
      {"EPS", 0.1},
      {"WHOLE", 3.0},
      {"HUGE_", 1e300},
      {"NEG", -2.5},
      {"EVEN", true},
      {"ODD", false},
      {"block", std::vector<std::int64_t>{1, -2, 3}},
      {"none", std::vector<std::int64_t>{}},
      {"XBLOCK", std::int64_t{128}},  // the same value again: defined once
  };
  CHECK(cpu::define_lines(values) ==
        "#define XBLOCK 128\n"
        "#define OFFSET (-3)\n"
        "#define LOWEST (-9223372036854775807LL - 1)\n"
        "#define EPS 0.1\n"
        "#define WHOLE 3.0\n"
        "#define HUGE_ 1e+300\n"
        "#define NEG (-2.5)\n"
        "#define EVEN 1\n"
        "#define ODD 0\n"
        "#define block {1, (-2), 3}\n"
        "#define none {}\n");
  CHECK(cpu::define_lines({}).empty());

  SUBCASE("doubles read back exactly") {
    for (const double v : {1.0 / 3.0, 0.1 + 0.2, 6.02214076e23, 5e-324, 123456789.0}) {
      const std::string line = cpu::define_lines({{"V", v}});
      const std::string literal = line.substr(10, line.size() - 11);
      CHECK_MESSAGE(std::strtod(literal.c_str(), nullptr) == v, literal);
      CHECK_MESSAGE(literal.find_first_of(".e") != std::string::npos, literal);
    }
  }
}

TEST_CASE("a define whose name is not a C identifier, or that is given twice, is refused before any compiler runs") {
  for (const char* name : {"", "2X", "X-Y", "bad name", "X\nY"}) {
    CHECK_MESSAGE(error_id<wrapgraph::backend_error>([&] { (void)cpu::define_lines({{name, true}}); }) ==
                      "wrapgraph.kernel.bad_define",
                  name);
  }
  CHECK(error_id<wrapgraph::backend_error>([] {
          (void)cpu::define_lines({{"XBLOCK", std::int64_t{4}}, {"XBLOCK", std::int64_t{8}}});
        }) == "wrapgraph.kernel.bad_define");

  temp_dir dir;
  cpu::kernel_compiler compiler(logging_options(dir.path));
  CHECK(error_id<wrapgraph::backend_error>([&] {
          (void)compiler.compile("k", wrapgraph::source_implementation{"", "k"}, {{"bad name", std::int64_t{1}}});
        }) == "wrapgraph.kernel.bad_define");
  CHECK(compiles_logged(dir.path) == 0);
}

TEST_CASE("kernel_defines gives the constants, then the chosen config, and refuses an index out of range") {
  wrapgraph::kernel_definition_line def = add_kernel();
  const wrapgraph::kernel_values second = cpu::kernel_defines(def, 1);
  REQUIRE(second.size() == 3);
  CHECK(second[0].first == "SCALE");
  CHECK(second[1].first == "XBLOCK");
  CHECK(std::get<std::int64_t>(second[1].second) == 8);
  CHECK(error_id<wrapgraph::backend_error>([&] { (void)cpu::kernel_defines(def, 2); }) ==
        "wrapgraph.kernel.bad_config");

  def.configs.clear();
  CHECK(cpu::kernel_defines(def, 0).size() == 1);
  CHECK(error_id<wrapgraph::backend_error>([&] { (void)cpu::kernel_defines(def, 1); }) ==
        "wrapgraph.kernel.bad_config");

  temp_dir dir;
  cpu::kernel_compiler compiler(logging_options(dir.path));
  CHECK(error_id<wrapgraph::backend_error>([&] { (void)compiler.compile(add_kernel(), 5); }) ==
        "wrapgraph.kernel.bad_config");
  def.implementations.cpp.reset();
  CHECK(error_id<wrapgraph::backend_error>([&] { (void)compiler.compile(def, 0); }) ==
        "wrapgraph.kernel.no_implementation");
  CHECK(compiles_logged(dir.path) == 0);
}

TEST_CASE("a compiler that does not exist throws compiler_not_found") {
  temp_dir dir;
  for (const std::string& program : {(dir.path / "no such compiler").string(),
                                     std::string("wrapgraph-no-such-compiler"), std::string()}) {
    cpu::compiler_options options;
    options.compiler = {program};
    options.cache_dir = dir.path / "cache";
    cpu::kernel_compiler compiler(options);
    CHECK_MESSAGE(error_id<wrapgraph::backend_error>([&] { (void)compiler.compile(add_kernel(), 0); }) ==
                      "wrapgraph.kernel.compiler_not_found",
                  program);
  }
}

TEST_CASE("a cache folder that cannot be created throws cache_failed") {
  temp_dir dir;
  std::ofstream(dir.path / "a file") << "not a folder\n";
  cpu::compiler_options options = logging_options(dir.path);
  options.cache_dir = dir.path / "a file" / "cache";
  cpu::kernel_compiler compiler(options);
  CHECK(error_id<wrapgraph::backend_error>([&] { (void)compiler.compile(add_kernel(), 0); }) ==
        "wrapgraph.kernel.cache_failed");
}

TEST_CASE("shared_library opens a library, finds its symbols and refuses what is missing") {
  cpu::shared_library libc("libc.so.6");
  CHECK(libc.symbol("strlen") != nullptr);
  CHECK(libc.find_symbol("wrapgraph_no_such_symbol") == nullptr);
  CHECK(error_id<wrapgraph::backend_error>([&] { (void)libc.symbol("wrapgraph_no_such_symbol"); }) ==
        "wrapgraph.kernel.missing_entry");

  cpu::shared_library moved = std::move(libc);
  CHECK(moved.native_handle() != nullptr);
  CHECK(libc.native_handle() == nullptr);  // NOLINT(bugprone-use-after-move)
  CHECK(error_id<wrapgraph::backend_error>([&] { (void)libc.symbol("strlen"); }) ==
        "wrapgraph.kernel.missing_entry");

  temp_dir dir;
  CHECK(error_id<wrapgraph::backend_error>([&] { cpu::shared_library missing(dir.path / "none.so"); }) ==
        "wrapgraph.kernel.load_failed");
  std::ofstream(dir.path / "text.so") << "not a shared object\n";
  CHECK(error_id<wrapgraph::backend_error>([&] { cpu::shared_library text(dir.path / "text.so"); }) ==
        "wrapgraph.kernel.load_failed");
}
