#include <switchboard/version.hpp>

int main() { return switchboard::version_string().empty() ? 1 : 0; }
