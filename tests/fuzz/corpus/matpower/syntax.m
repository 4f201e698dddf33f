function mpc = tricky()
%TRICKY a case that uses the syntax real files use
%  second help line

%{
a block comment: mpc.bus = [ this is not data
%}
mpc.version = "2";   # Octave comment
mpc.baseMVA = 1e2;
mpc.bus = [ 1, 3, 0, 0, 0, 0, 1, 1.06, 0, 135, 1, 1.1, 0.9  % slack
  2 1 -2.17e1 +12.7 0 19 1 1 -4.98 135 1 1.1 .9;   3 2 10 ...  a continuation
      5 0 0 1 1.01 0 135 1 1.1 0.9

];
mpc.gen = [
	1	232.4	-16.9	Inf	-Inf	1.06	100	1	332.4	0	0	0	0	0	0	0	0	0	15	0	0;
	3	40	42.4	50	-40	1.045	100	0	140	0	0	0	0	0	0	0	0	0	0	0	0;
];
mpc.branch = [
1 2 0.01938 0.05917 0.0528 0 0 0 0 0 1 -360 360;
2 3 0 0.2 0 9900 0 0 0.978 0 1 -360 360;
1 3 0.01 0.1 0 0 0 0 0 -3 0 -30 30;
];
mpc.gencost = [
  2 0 0 3 0.0430293 20 0 0;
  1 100 50 2 0 0 140 2800;
];
mpc.areas = [1 5];
mpc.gentype = {'ST'; 'NG'};
mpc.bus_name = { 'One'; 'It''s two'
 'three' };
mpc.reserves.zones = [1 1];
mpc.dcline = [];
end
