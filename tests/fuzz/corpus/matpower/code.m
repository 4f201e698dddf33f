function mpc = code
define_constants;
mpc.bus(:, PD) = mpc.bus(:, PD) * 2;
